// The secretless daemon end to end, every hop real: dev-azure's cluster issuer writes the
// service-account token file → token-broker exchanges it (workload identity) for a Key Vault
// token, has Key Vault sign the client assertion and redeems it at the Entra stand-in → the
// app-only token travels over NATS to the `policy-reader` caller (token-broker's CLI) → the real
// policy-api process accepts it by the app role Policies.Read.All on GET /policies/{number}.
import { TokenBrokerClient, TokenBrokerError } from '@idp/contracts';
import { PermissionViolationError, RequestError } from '@nats-io/transport-node';
import { startNode } from '@idp/testing';
import { join } from 'node:path';
import { call } from '../support/http';
import { claimsOf } from '../support/jwt';
import { repoRoot, startStack, type NatsUser, type Stack } from '../support/stack';
import { MFA_FLOW, userToken } from '../support/tokens';

jest.setTimeout(60_000);

const SCOPE = 'api://policy-api/.default';
const cli = join(repoRoot, 'services', 'token-broker', 'dist', 'cli', 'policy-reader.js');

interface Policy {
  policyNumber: string;
  holderOid: string;
  version: number;
  beneficiaries: { name: string; relationship: string; sharePercent: number }[];
}

describe('secretless daemon: dev-azure → token-broker → NATS → policy-reader → policy-api', () => {
  let stack: Stack;
  let policy: Policy;

  beforeAll(async () => {
    stack = await startStack({ services: ['policy-api', 'token-broker'] });
    // A policy holder signs in (B2C), gets her policy and names a beneficiary after step-up.
    const token = await userToken(stack, 'alice@contoso.example', MFA_FLOW);
    const me = await call<Policy>('GET', `${stack.url('policy-api')}/policies/me`, { token });
    expect(me.status).toBe(201); // her first read creates the policy
    const put = await call<Policy>('PUT', `${stack.url('policy-api')}/policies/me/beneficiaries`, {
      token,
      headers: { 'if-match': me.headers.get('etag') ?? '' },
      body: {
        beneficiaries: [{ name: 'Carol Example', relationship: 'spouse', sharePercent: 100 }],
      },
    });
    expect(put.status).toBe(200);
    policy = put.body;
  }, 150_000);
  afterAll(async () => {
    await stack?.stop();
  });

  /** Runs the daemon CLI as a NATS user; it holds no secret of its own, only its NATS login. */
  async function runDaemon(
    user: NatsUser,
    policyNumber: string,
  ): Promise<{ code: number | null; output: string }> {
    const p = startNode(
      cli,
      {
        NATS_URL: stack.nats.url,
        NATS_USER: user,
        NATS_PASSWORD: stack.natsPassword(user),
        POLICY_API_URL: stack.url('policy-api'),
      },
      [policyNumber],
    );
    const code = await p.exited;
    return { code, output: p.output() };
  }

  it('reads the policy by number with an app-only token it got from the broker (CLI)', async () => {
    const { code, output } = await runDaemon('policy-reader', policy.policyNumber);
    expect({ code, output }).toEqual({ code: 0, output: expect.any(String) });
    expect(JSON.parse(output)).toEqual(
      expect.objectContaining({
        policyNumber: policy.policyNumber,
        holderOid: policy.holderOid,
        version: policy.version,
        beneficiaries: policy.beneficiaries,
      }),
    );
    expect(output).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./); // the daemon never prints its token
  });

  it('gets a token accepted by app role only: the policy by number, never a user route', async () => {
    const client = new TokenBrokerClient(await stack.connect('policy-reader'), 'policy-reader', {
      timeoutMs: 30_000,
    });
    const { accessToken } = await client.getToken('policy-daemon', SCOPE);
    expect(claimsOf(accessToken)).toMatchObject({
      idtyp: 'app',
      roles: ['Policies.Read.All'],
      tid: stack.seed.contoso.id,
    });
    const byNumber = await call<Policy>(
      'GET',
      `${stack.url('policy-api')}/policies/${policy.policyNumber}`,
      { token: accessToken },
    );
    expect(byNumber.status).toBe(200);
    expect(byNumber.body.holderOid).toBe(policy.holderOid);
    const unknown = await call('GET', `${stack.url('policy-api')}/policies/PN0000000000`, {
      token: accessToken,
    });
    expect(unknown.status).toBe(404);
    // An app token has no user: the delegated routes refuse it.
    expect(
      (await call('GET', `${stack.url('policy-api')}/policies/me`, { token: accessToken })).status,
    ).toBe(403);
  });

  it('refuses a delegated user token on GET /policies/{number} (403), even after step-up', async () => {
    for (const flow of ['B2C_1_signupsignin', MFA_FLOW]) {
      const r = await call<{ error: string }>(
        'GET',
        `${stack.url('policy-api')}/policies/${policy.policyNumber}`,
        { token: await userToken(stack, 'alice@contoso.example', flow) },
      );
      expect({ flow, status: r.status, error: r.body.error }).toEqual({
        flow,
        status: 403,
        error: 'insufficient_scope',
      });
    }
  });

  it('gives a NATS user the broker policy does not allow `unauthorized`, and so no policy', async () => {
    const client = new TokenBrokerClient(await stack.connect('intruder'), 'intruder', {
      timeoutMs: 30_000,
    });
    const err = await client.getToken('policy-daemon', SCOPE).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenBrokerError);
    expect(err).toMatchObject({ code: 'unauthorized' });

    const { code, output } = await runDaemon('intruder', policy.policyNumber);
    expect(code).toBe(1);
    expect(output).toMatch(/token broker refused: unauthorized/);
    expect(output).not.toContain(policy.holderOid);
  });

  it('lets no NATS user ask on another caller’s subject: nats-server refuses before the broker sees it', async () => {
    const enc = new TextEncoder().encode(
      JSON.stringify({ registration: 'policy-daemon', scope: SCOPE }),
    );
    // The intruder posing as policy-reader, and a service that is no broker caller at all.
    for (const [user, subject] of [
      ['intruder', 'tokens.acquire.v1.policy-reader'],
      ['scim', 'tokens.acquire.v1.scim'],
    ] as const) {
      const nc = await stack.connect(user);
      const err: unknown = await nc.request(subject, enc, { timeout: 10_000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      // @nats-io 3.x: the server's refusal arrives as the request's cause.
      expect(err).toBeInstanceOf(RequestError);
      const cause = (err as RequestError).cause;
      expect(cause).toBeInstanceOf(PermissionViolationError);
      expect(cause).toMatchObject({ operation: 'publish', subject });
    }
  });
});
