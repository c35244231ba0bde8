import { join } from 'node:path';
import { portalEnv } from '../support/portal-env';
import {
  freePort,
  startNats,
  startNode,
  startPostgres,
  waitForHttp,
  type TestNatsServer,
  type TestPostgres,
} from '@idp/testing';

const entry = join(__dirname, '..', '..', 'dist', 'main.js');

describe('portal process', () => {
  let pg: TestPostgres;
  let nats: TestNatsServer;
  beforeAll(async () => {
    [pg, nats] = await Promise.all([startPostgres(), startNats()]);
  });
  afterAll(async () => {
    await Promise.all([pg.stop(), nats.dispose()]);
  });

  it('refuses to start naming each missing or malformed variable', async () => {
    const p = startNode(entry, { NATS_URL: 'http://nope', PORT: 'abc' });
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(/DATABASE_URL: is required but not set/);
    expect(p.output()).toMatch(/NATS_URL: must be a URL \(nats/);
    expect(p.output()).toMatch(/PORT: must be a port number/);
    expect(p.output()).toMatch(/SESSION_ENCRYPTION_KEY: is required but not set/);
    expect(p.output()).toMatch(/PUBLIC_BASE_URL: is required but not set/);
    expect(p.output()).toMatch(/B2C_CLIENT_ID: /);
  });

  it('refuses a session key that is not 32 bytes and a client without a credential', async () => {
    const env = {
      ...portalEnv(),
      SESSION_ENCRYPTION_KEY: 'c2hvcnQ=',
      B2C_CLIENT_SECRET: undefined,
      NATS_URL: nats.url,
      DATABASE_URL: 'postgres://x@127.0.0.1/x',
    };
    const p = startNode(entry, env);
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(/SESSION_ENCRYPTION_KEY: must be 32 bytes, base64 encoded/);
    const q = startNode(entry, {
      ...env,
      SESSION_ENCRYPTION_KEY: portalEnv().SESSION_ENCRYPTION_KEY,
    });
    expect(await q.exited).toBe(1);
    expect(q.output()).toMatch(/B2C_CLIENT_SECRET: is required unless B2C_CLIENT_CERTIFICATE_FILE/);
  });

  it('boots, migrates, answers health and readiness, reports NATS loss, and drains on SIGTERM', async () => {
    const port = await freePort();
    const db = await pg.createDatabase();
    const p = startNode(entry, {
      ...portalEnv(),
      PORT: String(port),
      NATS_URL: nats.url,
      DATABASE_URL: db,
      MIGRATE_ON_START: 'true',
      LOG_LEVEL: 'info',
    });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/healthz`, { proc: p });
      const ready = await waitForHttp(`http://127.0.0.1:${port}/readyz`, { proc: p });
      expect(await ready.json()).toEqual({ status: 'ok', checks: { nats: 'ok', database: 'ok' } });
      await nats.stop();
      const down = await waitForHttp(`http://127.0.0.1:${port}/readyz`, { status: 503, proc: p });
      expect(((await down.json()) as { checks: Record<string, string> }).checks.nats).not.toBe(
        'ok',
      );
      await nats.start();
      await waitForHttp(`http://127.0.0.1:${port}/readyz`, { proc: p });
      const r = await fetch(`http://127.0.0.1:${port}/no-such-route`, {
        headers: { 'x-request-id': 'req-123', authorization: 'Bearer secret-token' },
      });
      expect(r.headers.get('x-request-id')).toBe('req-123');
    } finally {
      expect(await p.stop('SIGTERM')).toBe(0);
    }
    const logs = p.output();
    expect(logs).not.toContain('secret-token');
    // Every line is JSON (structured logs).
    for (const line of logs.trim().split('\n'))
      if (!line.startsWith('(node:')) expect(() => JSON.parse(line)).not.toThrow();
    expect(logs).toMatch(/"reqId":"req-123"/);
  });
});
