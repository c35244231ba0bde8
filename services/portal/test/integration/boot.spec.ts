import { join } from 'node:path';
import { portalEnv } from '../support/portal-env';
import {
  freePort,
  observeLifecycle,
  startNats,
  startNode,
  startPostgres,
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
    const seen = await observeLifecycle({ proc: p, port, nats });
    expect(seen.ready).toEqual({ status: 'ok', checks: { nats: 'ok', database: 'ok' } });
    expect(seen.readyWithoutNats.checks?.nats).not.toBe('ok');
    expect(seen.echoedRequestId).toBe('req-123');
    expect(seen.exitCode).toBe(0);
    expect(seen.logs).not.toContain('secret-token');
    expect(seen.unstructuredLines).toEqual([]); // structured (JSON) logs only
    expect(seen.logs).toMatch(/"reqId":"req-123"/);
  });
});
