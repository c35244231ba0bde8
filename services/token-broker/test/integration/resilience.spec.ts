// The broker's behaviour under load and faults, with the real SDKs against the stand-ins and a
// movable clock for expiry: single flight, proactive refresh, certificate rotation, serving
// through an Entra outage, backoff on 429 (Entra and Key Vault), replication retries.
import { CertificateClient } from '@azure/keyvault-certificates';
import { request, tokensAcquireSubject, TokensAcquire, type ReplyOf } from '@idp/contracts';
import { loadConfig } from '@idp/service-kit';
import type { NatsConnection } from '@nats-io/transport-node';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { envSchema } from '../../src/config';
import { createKeyVaultCredential } from '../../src/keyvault/credential';
import type { Caller } from '../support/nats-users';
import { CERTIFICATE, CLAIMS_SCOPE, ids, POLICY_SCOPE } from '../support/seed';
import {
  entraError,
  startInProcessBroker,
  startStack,
  type InProcessBroker,
  type Stack,
} from '../support/stack';
import { validateAppToken } from '../support/validate';

type Reply = ReplyOf<typeof TokensAcquire>;
const listen = (s: Server) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
const close = (s: Server) => new Promise<void>((r) => s.close(() => r()));
const portOf = (s: Server) => (s.address() as AddressInfo).port;
const HOUR = 3600_000;
const DAY = 24 * HOUR;

describe('token broker resilience', () => {
  let stack: Stack;
  let broker: InProcessBroker;
  // One connection per caller, shared by concurrent requests (the promise is cached, so 1,000
  // concurrent first requests do not open 1,000 connections).
  const conns = new Map<Caller, Promise<NatsConnection>>();

  const acquire = async (caller: Caller, registration: string, scope: string): Promise<Reply> => {
    let connecting = conns.get(caller);
    if (!connecting) conns.set(caller, (connecting = stack.connectAs(caller)));
    const nc = await connecting;
    return request(
      nc,
      TokensAcquire,
      { registration, scope },
      { subject: tokensAcquireSubject(caller), timeout: 20000 },
    );
  };
  const tokenOf = (r: Reply): string => {
    if (!r.ok) throw new Error(`expected a token, got ${r.error.code}: ${r.error.message}`);
    return r.accessToken;
  };
  const signs = () => stack.dev.keyVault?.stats().signCount ?? NaN;
  const waitFor = async (cond: () => boolean) => {
    for (let i = 0; i < 600 && !cond(); i++) await new Promise((r) => setTimeout(r, 50));
    expect(cond()).toBe(true);
  };

  beforeAll(async () => {
    stack = await startStack();
    broker = await startInProcessBroker(stack);
  }, 90000);

  afterAll(async () => {
    await broker?.stop();
    await stack?.stop();
  });

  it('turns 1,000 concurrent cold requests into one Key Vault sign and one token request', async () => {
    const before = { signs: signs(), calls: broker.tap.calls };
    const replies = await Promise.all(
      Array.from({ length: 1000 }, () => acquire('policy-reader', 'policy-daemon', POLICY_SCOPE)),
    );
    const tokens = new Set(replies.map(tokenOf));
    expect(tokens.size).toBe(1);
    expect(signs() - before.signs).toBe(1);
    expect(broker.tap.calls - before.calls).toBe(1);
    expect(await broker.metrics.requests.get()).toMatchObject({
      values: expect.arrayContaining([
        expect.objectContaining({ labels: { cache: 'miss' }, value: 1000 }),
      ]),
    });
  }, 60000);

  it('refreshes ahead of expiry: a request past the refresh point is served from cache and triggers exactly one refresh', async () => {
    const old = tokenOf(await acquire('policy-reader', 'policy-daemon', POLICY_SCOPE));
    const before = { signs: signs(), calls: broker.tap.calls };
    // Tokens live ~1 h; refresh is due at half the lifetime, well over 5 minutes before expiry.
    broker.advance(HOUR / 2 + 1000);
    const during = await Promise.all(
      Array.from({ length: 20 }, () => acquire('policy-reader', 'policy-daemon', POLICY_SCOPE)),
    );
    expect(new Set(during.map(tokenOf))).toEqual(new Set([old]));
    const expiresOn = broker.cache.snapshot()[0]?.expiresOn;
    await waitFor(() => broker.cache.snapshot()[0]?.expiresOn !== expiresOn);
    expect(broker.tap.calls - before.calls).toBe(1);
    const fresh = tokenOf(await acquire('policy-reader', 'policy-daemon', POLICY_SCOPE));
    expect(fresh).not.toBe(old);
    expect(signs() - before.signs).toBe(1);
  });

  it('refreshes in the background sweep only what is in use', async () => {
    await acquire('policy-reader', 'policy-daemon', POLICY_SCOPE); // used since its last fetch
    let before = signs();
    broker.advance(HOUR / 2 + 1000);
    await broker.cache.refreshDue();
    expect(signs() - before).toBe(1);

    // Not used since that refresh: the sweep leaves it alone (no sign for an idle token).
    before = signs();
    broker.advance(HOUR / 2 + 1000);
    await broker.cache.refreshDue();
    expect(signs() - before).toBe(0);
  });

  it('picks up a new certificate version without a restart', async () => {
    const env = loadConfig(envSchema, stack.brokerEnv());
    const certs = new CertificateClient(env.KEY_VAULT_URL, createKeyVaultCredential(env), {
      disableChallengeResourceVerification: true,
    });
    const oldVersion = (await certs.getCertificate(CERTIFICATE)).properties.version;
    const policy = {
      issuerName: 'Self',
      subject: 'CN=policy-daemon',
      keyType: 'RSA',
      keySize: 2048,
      exportable: false,
    } as const;
    await (
      await certs.beginCreateCertificate(CERTIFICATE, policy, { intervalInMs: 100 })
    ).pollUntilDone();
    const newVersion = (await certs.getCertificate(CERTIFICATE)).properties.version;
    expect(newVersion).not.toBe(oldVersion);

    broker.advance(2 * HOUR); // everything cached has expired
    const token = tokenOf(await acquire('policy-reader', 'policy-daemon', POLICY_SCOPE));
    // The identity stand-in only trusts the certificate's current version, so this token proves the new key signed.
    expect(broker.cache.snapshot().find((e) => e.key.includes(ids.contoso))?.keyId).toMatch(
      new RegExp(`/keys/${CERTIFICATE}/${newVersion}$`),
    );
    expect(
      (await validateAppToken(stack.dev.identityUrl, ids.contoso, ids.policyApi, token)).roles,
    ).toContain('Policies.Read.All');
  }, 60000);

  it('keeps serving the cached token through an Entra outage, then reports upstream_unavailable once it expires, and recovers', async () => {
    const cached = tokenOf(await acquire('policy-reader', 'policy-daemon', POLICY_SCOPE));
    broker.tap.down = () => entraError(503);
    try {
      const calls = broker.tap.calls;
      broker.advance(HOUR / 2 + 1000);
      for (let i = 0; i < 5; i++)
        expect(tokenOf(await acquire('policy-reader', 'policy-daemon', POLICY_SCOPE))).toBe(cached);
      await waitFor(() => broker.tap.calls - calls === 5); // one refresh: first try + 4 retries, all 503
      expect(tokenOf(await acquire('policy-reader', 'policy-daemon', POLICY_SCOPE))).toBe(cached);

      broker.advance(HOUR);
      const r = await acquire('policy-reader', 'policy-daemon', POLICY_SCOPE);
      expect(r).toMatchObject({ ok: false, error: { code: 'upstream_unavailable' } });
    } finally {
      broker.tap.down = undefined;
    }
    const recovered = tokenOf(await acquire('policy-reader', 'policy-daemon', POLICY_SCOPE));
    expect(recovered).not.toBe(cached);
  });

  it('backs off on Entra 429 honouring Retry-After, with jitter, then succeeds', async () => {
    broker.advance(2 * HOUR);
    const calls = broker.tap.calls;
    const sleeps = broker.sleeps.length;
    broker.tap.failNext(2, () => entraError(429, undefined, { 'retry-after': '7' }));
    const token = tokenOf(await acquire('claims-sync', 'northwind-claims', CLAIMS_SCOPE));
    expect(
      (await validateAppToken(stack.dev.identityUrl, ids.northwind, ids.claimsApi, token)).roles,
    ).toEqual(['Claims.Read.All']);
    expect(broker.tap.calls - calls).toBe(3);
    const waited = broker.sleeps.slice(sleeps);
    expect(waited).toHaveLength(2);
    for (const ms of waited) expect(ms).toBeGreaterThanOrEqual(7000);
  });

  it("never caches a token longer than Entra's maximum lifetime, whatever expires_in says", async () => {
    for (const expiresIn of [1e12, 1e308, '99999999999']) {
      broker.advance(2 * DAY);
      broker.tap.reshapeNext(1, (body) => ({ ...body, expires_in: expiresIn }));
      const r = await acquire('claims-sync', 'northwind-claims', CLAIMS_SCOPE); // reply schema checked
      const token = tokenOf(r);
      if (!r.ok) throw new Error('unreachable');
      const now = (Date.now() + broker.offset()) / 1000;
      expect(r.expiresOn).toBeLessThanOrEqual(now + DAY / 1000);
      expect(r.expiresOn).toBeGreaterThan(now + DAY / 1000 - 60);
      // A day later it is fetched again, not served on.
      broker.advance(DAY);
      expect(tokenOf(await acquire('claims-sync', 'northwind-claims', CLAIMS_SCOPE))).not.toBe(
        token,
      );
    }
  });

  it('retries a token response without a usable expires_in instead of guessing a lifetime', async () => {
    for (const expiresIn of [-5, 0, 0.5, 'abc', '', null, undefined]) {
      broker.advance(2 * DAY);
      const calls = broker.tap.calls;
      broker.tap.reshapeNext(1, (body) => ({ ...body, expires_in: expiresIn }));
      const r = await acquire('claims-sync', 'northwind-claims', CLAIMS_SCOPE);
      tokenOf(r);
      // Asked again (the stand-in refuses the repeated assertion, so a fresh one is signed: 3 calls).
      expect(broker.tap.calls - calls).toBeGreaterThanOrEqual(2);
      // Served with the lifetime of the later, well-formed answer (about an hour), not a guess.
      const now = (Date.now() + broker.offset()) / 1000;
      if (r.ok) expect(r.expiresOn).toBeGreaterThan(now + HOUR / 1000 - 120);
      if (r.ok) expect(r.expiresOn).toBeLessThan(now + HOUR / 1000 + 120);
      // And that token expires as Entra said: an hour later it is not served.
      broker.advance(HOUR);
      expect(tokenOf(await acquire('claims-sync', 'northwind-claims', CLAIMS_SCOPE))).not.toBe(
        tokenOf(r),
      );
    }
  });

  it('retries an expires_in shorter than five minutes (never cached, it would cost a Key Vault sign per request) and caches the next, well-formed answer', async () => {
    for (const expiresIn of [1, '1', 30, 299]) {
      broker.advance(2 * DAY);
      const calls = broker.tap.calls;
      broker.tap.reshapeNext(1, (body) => ({ ...body, expires_in: expiresIn }));
      const r = await acquire('claims-sync', 'northwind-claims', CLAIMS_SCOPE);
      const token = tokenOf(r);
      expect(broker.tap.calls - calls).toBeGreaterThanOrEqual(2);
      const now = (Date.now() + broker.offset()) / 1000;
      if (r.ok) expect(r.expiresOn).toBeGreaterThan(now + HOUR / 1000 - 120);
      // The next requests are cache hits: no token request, no Key Vault sign.
      const after = { signs: signs(), calls: broker.tap.calls };
      for (let i = 0; i < 5; i++)
        expect(tokenOf(await acquire('claims-sync', 'northwind-claims', CLAIMS_SCOPE))).toBe(token);
      expect({ signs: signs(), calls: broker.tap.calls }).toEqual(after);
    }
  });

  it('an Entra that only ever answers 1 s lifetimes costs bounded signs and gives callers upstream_unavailable, not a token that is already expiring', async () => {
    broker.advance(2 * DAY);
    const before = { signs: signs(), calls: broker.tap.calls };
    broker.tap.reshapeNext(100, (body) => ({ ...body, expires_in: 1 }));
    const r = await acquire('claims-sync', 'northwind-claims', CLAIMS_SCOPE);
    expect(r).toMatchObject({ ok: false, error: { code: 'upstream_unavailable' } });
    // One attempt plus UPSTREAM_RETRY_ATTEMPTS (4 here), each at most one sign and two token
    // requests (the stand-in refuses a replayed assertion, so a retry signs a fresh one; Entra,
    // which accepts reuse, would cost one sign in all).
    expect(signs() - before.signs).toBeLessThanOrEqual(5);
    expect(broker.tap.calls - before.calls).toBeLessThanOrEqual(10);
    broker.tap.clearFaults();
    // And the next request, with Entra well again, gets a token.
    tokenOf(await acquire('claims-sync', 'northwind-claims', CLAIMS_SCOPE));
  });

  it('does not wait for a Retry-After beyond a minute: upstream_unavailable at once, the next request tries again', async () => {
    for (const retryAfter of ['100000', new Date(Date.now() + 3 * HOUR).toUTCString()]) {
      broker.advance(2 * HOUR);
      const calls = broker.tap.calls;
      const sleeps = broker.sleeps.length;
      broker.tap.failNext(1, () => entraError(429, undefined, { 'retry-after': retryAfter }));
      expect(await acquire('claims-sync', 'northwind-claims', CLAIMS_SCOPE)).toMatchObject({
        ok: false,
        error: { code: 'upstream_unavailable' },
      });
      expect(broker.sleeps.slice(sleeps)).toEqual([]);
      expect(broker.tap.calls - calls).toBe(1);
      tokenOf(await acquire('claims-sync', 'northwind-claims', CLAIMS_SCOPE));
    }
  });

  it('backs off exponentially on Entra 5xx without Retry-After', async () => {
    broker.advance(2 * HOUR);
    const sleeps = broker.sleeps.length;
    broker.tap.failNext(3, () => entraError(500));
    tokenOf(await acquire('claims-sync', 'northwind-claims', CLAIMS_SCOPE));
    const waited = broker.sleeps.slice(sleeps);
    // base 100 ms: attempt n waits between 2^n * 50 and 2^n * 100 ms.
    expect(waited).toHaveLength(3);
    waited.forEach((ms, n) => {
      expect(ms).toBeGreaterThanOrEqual(2 ** n * 50);
      expect(ms).toBeLessThanOrEqual(2 ** n * 100);
    });
  });

  it('retries AADSTS700016 (app not yet replicated) a bounded number of times', async () => {
    broker.advance(2 * HOUR);
    broker.tap.failNext(2, () => entraError(400, 700016));
    tokenOf(await acquire('claims-sync', 'northwind-claims', CLAIMS_SCOPE));

    broker.advance(2 * HOUR);
    const calls = broker.tap.calls;
    broker.tap.failNext(20, () => entraError(400, 700016));
    const r = await acquire('claims-sync', 'northwind-claims', CLAIMS_SCOPE);
    broker.tap.clearFaults();
    expect(r).toMatchObject({
      ok: false,
      error: { code: 'upstream_unavailable', aadsts: 'AADSTS700016' },
    });
    expect(broker.tap.calls - calls).toBe(4); // first try + 3 replication retries
  });

  it('does not retry a definitive refusal and passes its AADSTS code on', async () => {
    broker.advance(2 * HOUR);
    const calls = broker.tap.calls;
    broker.tap.failNext(1, () => entraError(401, 7000215));
    const r = await acquire('claims-sync', 'northwind-claims', CLAIMS_SCOPE);
    expect(r).toMatchObject({
      ok: false,
      error: { code: 'upstream_rejected', aadsts: 'AADSTS7000215' },
    });
    expect(broker.tap.calls - calls).toBe(1);
  });

  it("passes on only a well-formed error name and AADSTS code from Entra's refusal", async () => {
    const refusal = (body: Record<string, unknown>) => () =>
      new Response(JSON.stringify(body), {
        status: 400,
        headers: { 'content-type': 'application/json' },
      });
    const cases: Array<[Record<string, unknown>, Record<string, unknown>]> = [
      [
        { error: `${'x'.repeat(5000)}\u0000`, error_codes: [1e300] },
        { message: 'Entra refused the token request: invalid_request' },
      ],
      [
        { error: 'invalid_grant', error_codes: [-1], error_description: 'AADSTS1234567890123: x' },
        { message: 'Entra refused the token request: invalid_grant' },
      ],
      [
        { error: { nested: true }, error_codes: ['700027'], error_description: 'AADSTS50011: x' },
        { message: 'Entra refused the token request: invalid_request', aadsts: 'AADSTS50011' },
      ],
    ];
    for (const [body, error] of cases) {
      broker.advance(2 * HOUR);
      broker.tap.failNext(1, refusal(body));
      const r = await acquire('claims-sync', 'northwind-claims', CLAIMS_SCOPE);
      expect(r).toEqual({ ok: false, error: { code: 'upstream_rejected', ...error } });
    }
    const labels = (await broker.metrics.errors.get()).values.map((v) => v.labels.aadsts);
    expect(labels.filter((l) => typeof l === 'string' && l.length > 14)).toEqual([]);
  });

  it('never follows a redirect from the token endpoint (the client assertion would be posted to its target)', async () => {
    const posted: string[] = [];
    const target = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        posted.push(body);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ token_type: 'Bearer', access_token: 'stolen', expires_in: 3599 }));
      });
    });
    const redirector = createServer((_req, res) => {
      res.writeHead(307, { location: `http://127.0.0.1:${portOf(target)}/collect` });
      res.end();
    });
    await Promise.all([listen(target), listen(redirector)]);
    try {
      broker.advance(2 * HOUR);
      broker.tap.redirectNextTo = `http://127.0.0.1:${portOf(redirector)}/token`;
      const r = await acquire('claims-sync', 'northwind-claims', CLAIMS_SCOPE);
      expect(r).toMatchObject({ ok: false, error: { code: 'upstream_rejected' } });
      expect(posted).toEqual([]);
    } finally {
      await Promise.all([close(target), close(redirector)]);
    }
    tokenOf(await acquire('claims-sync', 'northwind-claims', CLAIMS_SCOPE));
  });

  it('backs off on Key Vault 429 honouring its Retry-After', async () => {
    const vault = stack.dev.keyVault;
    if (!vault) throw new Error('no vault');
    broker.advance(2 * HOUR);
    broker.sleepCapMs = 5000; // the vault's token bucket runs on real time
    const throttled = vault.stats().throttledCount;
    const sleeps = broker.sleeps.length;
    // Capacity 2/s, drained by two reads: the broker's next request is throttled (Retry-After: 1).
    vault.setRateLimit(2);
    try {
      const env = loadConfig(envSchema, stack.brokerEnv());
      const certs = new CertificateClient(env.KEY_VAULT_URL, createKeyVaultCredential(env), {
        disableChallengeResourceVerification: true,
        retryOptions: { maxRetries: 0 },
      });
      await Promise.allSettled([
        certs.getCertificate(CERTIFICATE),
        certs.getCertificate(CERTIFICATE),
        certs.getCertificate(CERTIFICATE),
      ]);
      tokenOf(await acquire('claims-sync', 'northwind-claims', CLAIMS_SCOPE));
    } finally {
      vault.setRateLimit(undefined);
      broker.sleepCapMs = 0;
    }
    expect(vault.stats().throttledCount).toBeGreaterThan(throttled);
    const waited = broker.sleeps.slice(sleeps);
    expect(waited.length).toBeGreaterThanOrEqual(1);
    expect(Math.max(...waited)).toBeGreaterThanOrEqual(1000);
    const retries = await broker.metrics.upstreamRetries.get();
    expect(retries.values.find((v) => v.labels.kind === 'throttled')?.value).toBeGreaterThanOrEqual(
      1,
    );
  }, 60000);
});
