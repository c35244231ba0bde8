import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { MFA_FLOW, PolicyApiTokens } from '../support/tokens';
import {
  freePort,
  observeLifecycle,
  startNats,
  startNode,
  startPostgres,
  waitForHttp,
  type TestNatsServer,
  type TestPostgres,
} from '@idp/testing';

const entry = join(__dirname, '..', '..', 'dist', 'main.js');

describe('policy-api process', () => {
  let pg: TestPostgres;
  let nats: TestNatsServer;
  let issuer: PolicyApiTokens;
  beforeAll(async () => {
    [pg, nats, issuer] = await Promise.all([startPostgres(), startNats(), PolicyApiTokens.start()]);
  });
  afterAll(async () => {
    await Promise.all([pg.stop(), nats.dispose(), issuer.stop()]);
  });

  it('refuses to start naming each missing or malformed variable', async () => {
    const p = startNode(entry, { NATS_URL: 'http://nope', PORT: 'abc' });
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(/DATABASE_URL: is required but not set/);
    expect(p.output()).toMatch(/NATS_URL: must be a URL \(nats/);
    expect(p.output()).toMatch(/PORT: must be a port number/);
    expect(p.output()).toMatch(/B2C_IDENTITY_METADATA: is required but not set/);
    expect(p.output()).toMatch(/API_AUDIENCE: is required but not set/);
  });

  it('refuses plain-http metadata unless explicitly allowed, and never in production', async () => {
    const base = { NATS_URL: nats.url, DATABASE_URL: pg.url, ...issuer.env() };
    const insecure = startNode(entry, {
      ...base,
      NODE_ENV: 'development',
      AUTH_ALLOW_INSECURE_HTTP: 'false',
    });
    expect(await insecure.exited).toBe(1);
    expect(insecure.output()).toMatch(/B2C_IDENTITY_METADATA: must use https/);
    const prod = startNode(entry, { ...base, NODE_ENV: 'production' });
    expect(await prod.exited).toBe(1);
    expect(prod.output()).toMatch(
      /AUTH_ALLOW_INSECURE_HTTP: is development-only \(.*\) and refused when NODE_ENV=production/,
    );
  });

  it('serves every API route under API_BASE_PATH (the ingress path) while probes stay at the root', async () => {
    const port = await freePort();
    const base = {
      PORT: String(port),
      NATS_URL: nats.url,
      DATABASE_URL: await pg.createDatabase(),
      MIGRATE_ON_START: 'true',
      NODE_ENV: 'development',
      ...issuer.env(),
    };
    const bad = startNode(entry, { ...base, API_BASE_PATH: 'api/' });
    expect(await bad.exited).toBe(1);
    expect(bad.output()).toMatch(/API_BASE_PATH: must be empty or a path like \/api/);
    const p = startNode(entry, { ...base, API_BASE_PATH: '/api' });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/readyz`, { proc: p });
      expect((await fetch(`http://127.0.0.1:${port}/api/public`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/public`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${port}/api/policies/me`)).status).toBe(401);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      const doc = (await (await fetch(`http://127.0.0.1:${port}/api/openapi.json`)).json()) as {
        paths: Record<string, unknown>;
      };
      expect(Object.keys(doc.paths)).toContain('/api/policies/me');
    } finally {
      expect(await p.stop()).toBe(0);
    }
  });

  it('boots, migrates, answers health and readiness, reports NATS loss, and drains on SIGTERM', async () => {
    const port = await freePort();
    const db = await pg.createDatabase();
    let token = 'unset';
    const p = startNode(entry, {
      PORT: String(port),
      NATS_URL: nats.url,
      DATABASE_URL: db,
      MIGRATE_ON_START: 'true',
      LOG_LEVEL: 'info',
      NODE_ENV: 'development',
      ...issuer.env(),
    });
    let putStatus = 0;
    const seen = await observeLifecycle({
      proc: p,
      port,
      nats,
      during: async (base) => {
        // A real change: neither the token nor the beneficiary's name (personal data) reaches the logs.
        token = await issuer.userToken({ oid: randomUUID(), flow: MFA_FLOW });
        const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
        const read = await fetch(`${base}/policies/me`, { headers });
        const put = await fetch(`${base}/policies/me/beneficiaries`, {
          method: 'PUT',
          headers: {
            ...headers,
            'if-match': read.headers.get('etag') ?? '',
            'x-request-id': 'req-change-1',
          },
          body: JSON.stringify({
            beneficiaries: [
              { name: 'Zelda Confidential', relationship: 'spouse', sharePercent: 100 },
            ],
          }),
        });
        putStatus = put.status;
      },
    });
    expect(seen.ready).toEqual({ status: 'ok', checks: { nats: 'ok', database: 'ok' } });
    expect(seen.readyWithoutNats.checks?.nats).not.toBe('ok');
    expect(seen.echoedRequestId).toBe('req-123');
    expect(seen.exitCode).toBe(0);
    expect(seen.logs).not.toContain('secret-token');
    expect(putStatus).toBe(200);
    expect(seen.logs).not.toContain(token);
    expect(seen.logs).not.toContain('Zelda');
    expect(seen.logs).toMatch(/"requestId":"req-change-1"/);
    expect(seen.unstructuredLines).toEqual([]); // structured (JSON) logs only
    expect(seen.logs).toMatch(/"reqId":"req-123"/);
  });
});
