// The daemon pattern without a secret: get an app-only token for the policy API from the
// broker over NATS (as this job's own NATS user) and read one policy.
//   node dist/cli/policy-reader.js <policy-number>
// Env: NATS_URL, NATS_USER, NATS_PASSWORD, POLICY_API_URL,
//      POLICY_REGISTRATION (default policy-daemon), POLICY_API_SCOPE (default api://policy-api/.default).
import { TokenBrokerClient, TokenBrokerError } from '@idp/contracts';
import { connect } from '@nats-io/transport-node';

export interface PolicyReaderOptions {
  natsUrl: string;
  natsUser: string;
  natsPassword?: string;
  policyApiUrl: string;
  registration: string;
  scope: string;
}

export async function readPolicy(
  o: PolicyReaderOptions,
  policyNumber: string,
): Promise<{ status: number; body: unknown }> {
  const nc = await connect({
    servers: o.natsUrl.split(','),
    user: o.natsUser,
    pass: o.natsPassword,
    name: 'policy-reader',
    inboxPrefix: `_INBOX.${o.natsUser}`,
  });
  try {
    const tokens = new TokenBrokerClient(nc, o.natsUser);
    const res = await fetch(
      `${o.policyApiUrl.replace(/\/+$/, '')}/policies/${encodeURIComponent(policyNumber)}`,
      {
        headers: {
          authorization: await tokens.authorization(o.registration, o.scope),
          accept: 'application/json',
        },
      },
    );
    return { status: res.status, body: await res.json().catch(() => null) };
  } finally {
    await nc.close();
  }
}

async function main(): Promise<number> {
  const number = process.argv[2];
  const e = process.env;
  const missing = ['NATS_URL', 'NATS_USER', 'POLICY_API_URL'].filter((k) => !e[k]);
  if (!number || missing.length > 0) {
    console.error(
      `usage: policy-reader <policy-number>${missing.length ? ` (missing: ${missing.join(', ')})` : ''}`,
    );
    return 2;
  }
  try {
    const r = await readPolicy(
      {
        natsUrl: e.NATS_URL ?? '',
        natsUser: e.NATS_USER ?? '',
        natsPassword: e.NATS_PASSWORD,
        policyApiUrl: e.POLICY_API_URL ?? '',
        registration: e.POLICY_REGISTRATION ?? 'policy-daemon',
        scope: e.POLICY_API_SCOPE ?? 'api://policy-api/.default',
      },
      number,
    );
    process.stdout.write(`${JSON.stringify(r.body, null, 2)}\n`);
    return r.status === 200 ? 0 : 1;
  } catch (err) {
    // Never print the token; the broker's code (and AADSTS) is what an operator needs.
    console.error(
      err instanceof TokenBrokerError
        ? `token broker refused: ${err.message}`
        : `failed: ${err instanceof Error ? err.message : String(err)}`,
    );
    return 1;
  }
}

if (require.main === module) void main().then((code) => process.exit(code));
