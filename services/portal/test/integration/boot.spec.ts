import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { portalEnv } from '../support/portal-env';
import { freePort, startNode, startPostgres, waitForHttp, type TestPostgres } from '@idp/testing';

const entry = join(__dirname, '..', '..', 'dist', 'main.js');

// No NATS server anywhere in this suite: the portal publishes and subscribes to nothing.
describe('portal process', () => {
  let pg: TestPostgres;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await pg.stop();
  });

  it('refuses to start naming each missing or malformed variable, and asks for no NATS', async () => {
    const p = startNode(entry, { PORT: 'abc' });
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(/DATABASE_URL: is required but not set/);
    expect(p.output()).toMatch(/PORT: must be a port number/);
    expect(p.output()).toMatch(/SESSION_ENCRYPTION_KEY: is required but not set/);
    expect(p.output()).toMatch(/PUBLIC_BASE_URL: is required but not set/);
    expect(p.output()).toMatch(/B2C_CLIENT_ID: /);
    expect(p.output()).not.toMatch(/NATS_/);
  });

  it('refuses a session key that is not 32 bytes and a client without a credential', async () => {
    const env = {
      ...portalEnv(),
      SESSION_ENCRYPTION_KEY: 'c2hvcnQ=',
      B2C_CLIENT_SECRET: undefined,
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

  it('boots with no NATS at all, migrates, answers health and readiness on the database alone, and drains on SIGTERM', async () => {
    // A listener that counts connections where a leftover NATS_URL points: the portal must not dial it.
    let dialled = 0;
    const trap: Server = createServer((s) => {
      dialled += 1;
      s.destroy();
    });
    await new Promise<void>((r) => trap.listen(0, '127.0.0.1', r));
    const natsPort = (trap.address() as { port: number }).port;
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const p = startNode(entry, {
      ...portalEnv(),
      PORT: String(port),
      // Set but not read (the same environment as a service that uses NATS): ignored.
      NATS_URL: `nats://127.0.0.1:${natsPort}`,
      NATS_USER: 'portal',
      NATS_PASSWORD: 'unused',
      DATABASE_URL: await pg.createDatabase(),
      MIGRATE_ON_START: 'true',
      LOG_LEVEL: 'info',
    });
    let exitCode: number | null;
    try {
      await waitForHttp(`${base}/healthz`, { proc: p });
      const ready = await (await waitForHttp(`${base}/readyz`, { proc: p })).json();
      expect(ready).toEqual({ status: 'ok', checks: { database: 'ok' } });
      // Signed-out, the home page serves (a redirect to sign-in or the page itself, never a 5xx).
      const home = await fetch(`${base}/`, {
        redirect: 'manual',
        headers: { 'x-request-id': 'req-123', authorization: 'Bearer secret-token' },
      });
      expect(home.status).toBeLessThan(500);
      expect(home.headers.get('x-request-id')).toBe('req-123');
    } finally {
      exitCode = await p.stop('SIGTERM');
      await new Promise((r) => trap.close(r));
    }
    expect(exitCode).toBe(0);
    expect(dialled).toBe(0);
    const logs = p.output();
    expect(logs).not.toContain('secret-token');
    expect(logs).toMatch(/"reqId":"req-123"/);
    const unstructured = logs
      .trim()
      .split('\n')
      .filter((line) => !line.startsWith('(node:') && !isJson(line));
    expect(unstructured).toEqual([]); // structured (JSON) logs only
  });
});

function isJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}
