// The broker as it runs on the cluster, offline: a real process with workload identity (the
// cluster issuer's service-account token file) → identity stand-in → Key Vault stand-in sign →
// token endpoint → token over NATS, verified as a resource API would verify it.
import { jetstreamManager } from '@nats-io/jetstream';
import { Svcm } from '@nats-io/services';
import {
  decodeEvent,
  request,
  TokenBrokerClient,
  TokenBrokerError,
  tokensAcquireSubject,
  TokensAcquire,
  TokensIssued,
} from '@idp/contracts';
import { freePort, startNode, waitForHttp, type RunningProcess } from '@idp/testing';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { readPolicy } from '../../src/cli/policy-reader';
import { callerPassword } from '../support/nats-users';
import { CLAIMS_SCOPE, ids, POLICY_SCOPE } from '../support/seed';
import { startStack, type Stack } from '../support/stack';
import { claimsOf, validateAppToken } from '../support/validate';

const entry = join(__dirname, '..', '..', 'dist', 'main.js');
// Several stand-ins and a broker process share two cores with other suites: generous timeouts.
jest.setTimeout(60000);

describe('token broker end to end (process, workload identity, Key Vault, Entra stand-in, NATS)', () => {
  let stack: Stack;
  let proc: RunningProcess;
  let port: number;

  beforeAll(async () => {
    stack = await startStack();
    port = await freePort();
    proc = startNode(entry, stack.brokerEnv({ PORT: String(port), LOG_LEVEL: 'debug' }));
    await waitForHttp(`http://127.0.0.1:${port}/readyz`, { proc, timeoutMs: 60000 });
  }, 90000);

  afterAll(async () => {
    if (proc) expect(await proc.stop('SIGTERM')).toBe(0);
    await stack?.stop();
  });

  it('is ready once NATS and Key Vault answer', async () => {
    const r = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(await r.json()).toEqual({ status: 'ok', checks: { nats: 'ok', keyvault: 'ok' } });
  });

  it('hands policy-reader an app-only token the policy API accepts (cross-tenant, PS256 assertion), then serves it from cache', async () => {
    const nc = await stack.connectAs('policy-reader');
    const client = new TokenBrokerClient(nc, 'policy-reader');
    const first = await client.getToken('policy-daemon', POLICY_SCOPE);
    const principal = await validateAppToken(
      stack.dev.identityUrl,
      ids.contoso,
      ids.policyApi,
      first.accessToken,
    );
    expect(principal.appId).toBe(ids.daemon);
    expect(principal.roles).toContain('Policies.Read.All');
    expect(principal.tenantId).toBe(ids.contoso);
    expect(claimsOf(first.accessToken).aud).toBe(ids.policyApi);
    // Expiry comes from the response's expires_in, so it may be a second off the exp claim.
    expect(Math.abs(first.expiresOn - Number(claimsOf(first.accessToken).exp))).toBeLessThanOrEqual(
      2,
    );

    // A second request (a fresh client, no local cache) is a broker cache hit: same token.
    const again = await request(
      nc,
      TokensAcquire,
      { registration: 'policy-daemon', scope: POLICY_SCOPE },
      { subject: tokensAcquireSubject('policy-reader'), timeout: 20000 },
    );
    expect(again).toEqual({
      ok: true,
      accessToken: first.accessToken,
      tokenType: 'Bearer',
      expiresOn: first.expiresOn,
    });
  });

  it('serves the legacy RS256 + x5t registration and another tenant (northwind) to the callers allowed to ask', async () => {
    const reader = new TokenBrokerClient(await stack.connectAs('policy-reader'), 'policy-reader');
    const legacy = await reader.getToken('policy-daemon-legacy', POLICY_SCOPE);
    expect(
      (
        await validateAppToken(
          stack.dev.identityUrl,
          ids.contoso,
          ids.policyApi,
          legacy.accessToken,
        )
      ).roles,
    ).toContain('Policies.Read.All');

    const sync = new TokenBrokerClient(await stack.connectAs('claims-sync'), 'claims-sync');
    const claims = await sync.getToken('northwind-claims', CLAIMS_SCOPE);
    const p = await validateAppToken(
      stack.dev.identityUrl,
      ids.northwind,
      ids.claimsApi,
      claims.accessToken,
    );
    expect(p.tenantId).toBe(ids.northwind);
    expect(p.roles).toEqual(['Claims.Read.All']);
  });

  it('refuses a caller the policy does not allow, with a typed error', async () => {
    const sync = new TokenBrokerClient(await stack.connectAs('claims-sync'), 'claims-sync');
    await expect(sync.getToken('policy-daemon', POLICY_SCOPE)).rejects.toMatchObject({
      code: 'unauthorized',
    });
    await expect(sync.getToken('no-such-registration', POLICY_SCOPE)).rejects.toBeInstanceOf(
      TokenBrokerError,
    );
    // An unknown registration gets the same answer: registration names are not discoverable.
    await expect(sync.getToken('no-such-registration', POLICY_SCOPE)).rejects.toMatchObject({
      code: 'unauthorized',
    });
  });

  it('lets the policy-reader daemon read a policy with the token (CLI), accepted by app role', async () => {
    const api = await startPolicyApiStandIn(stack.dev.identityUrl);
    try {
      const r = await readPolicy(
        {
          natsUrl: stack.nats.url,
          natsUser: 'policy-reader',
          natsPassword: callerPassword('policy-reader'),
          policyApiUrl: api.url,
          registration: 'policy-daemon',
          scope: POLICY_SCOPE,
        },
        'POL-0001',
      );
      expect(r).toEqual({ status: 200, body: { number: 'POL-0001', readBy: ids.daemon } });
    } finally {
      api.server.close();
    }
  });

  it('audits every issuance on JetStream (no token, only a hash of its uti) and counts it in metrics', async () => {
    const nc = await stack.connectBroker();
    const jsm = await jetstreamManager(nc);
    const issued = [];
    const { state } = await jsm.streams.info('TOKENS');
    for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
      const m = await jsm.streams.getMessage('TOKENS', { seq });
      if (m) issued.push(decodeEvent(TokensIssued, m.data)); // null: a deleted sequence
    }
    const reader = issued.filter(
      (e) => e.caller === 'policy-reader' && e.registration === 'policy-daemon',
    );
    expect(reader.map((e) => e.cache)).toEqual(expect.arrayContaining(['miss', 'hit']));
    const token = (
      await new TokenBrokerClient(await stack.connectAs('policy-reader'), 'policy-reader').getToken(
        'policy-daemon',
        POLICY_SCOPE,
      )
    ).accessToken;
    expect(reader[0]?.tokenIdHash).toBe(
      createHash('sha256')
        .update(String(claimsOf(token).uti))
        .digest('hex'),
    );
    expect(JSON.stringify(issued)).not.toContain(token);

    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/token_broker_issued_total\{cache="hit"\} [1-9]/);
    expect(metrics).toMatch(/token_broker_issued_total\{cache="miss"\} [1-9]/);
    expect(metrics).toMatch(/token_broker_errors_total\{code="unauthorized",aadsts=""\} [1-9]/);
    expect(metrics).toMatch(/token_broker_keyvault_sign_seconds_count [1-9]/);
    expect(metrics).toMatch(/token_broker_token_endpoint_seconds_count [1-9]/);
  });

  it('is discoverable as a NATS service ($SRV)', async () => {
    const nc = await stack.connectBroker();
    const infos = [];
    for await (const i of await new Svcm(nc).client().info('token-broker')) infos.push(i);
    expect(infos).toHaveLength(1);
    expect(infos[0]?.endpoints[0]).toMatchObject({
      name: 'acquire',
      subject: 'tokens.acquire.v1.*',
      queue_group: 'token-broker',
    });
  });

  it('never logs tokens or assertions', async () => {
    const token = (
      await new TokenBrokerClient(await stack.connectAs('policy-reader'), 'policy-reader').getToken(
        'policy-daemon',
        POLICY_SCOPE,
      )
    ).accessToken;
    const out = proc.output();
    expect(out).not.toContain(token.split('.')[1]);
    expect(out).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
  });
});

/** Just enough policy API: bearer validated against the tenant's JWKS, app role Policies.Read.All required. */
async function startPolicyApiStandIn(
  identityUrl: string,
): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const m = /^\/policies\/([^/]+)$/.exec(req.url ?? '');
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!m || !token) return void res.writeHead(401).end();
    validateAppToken(identityUrl, ids.contoso, ids.policyApi, token).then(
      (p) => {
        if (!p.roles.includes('Policies.Read.All')) return void res.writeHead(403).end();
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ number: m[1], readBy: p.appId }));
      },
      () => void res.writeHead(401).end(),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
