import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
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
const cli = join(__dirname, '..', '..', 'dist', 'cli', 'admin-cli.js');
const run = promisify(execFile);

describe('scim process', () => {
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
  });

  it('boots, migrates, answers health and readiness, reports NATS loss, and drains on SIGTERM', async () => {
    const port = await freePort();
    const db = await pg.createDatabase();
    const p = startNode(entry, {
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

  it('issues and revokes SCIM tokens with the admin command, which the running service honours', async () => {
    const port = await freePort();
    const db = await pg.createDatabase();
    const env = { ...process.env, DATABASE_URL: db };
    const p = startNode(entry, {
      PORT: String(port),
      NATS_URL: nats.url,
      DATABASE_URL: db,
      MIGRATE_ON_START: 'true',
      LOG_LEVEL: 'warn',
    });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/readyz`, { proc: p });
      // Directories are created explicitly before their first token.
      await run(process.execPath, [cli, 'directory', 'create', 'contoso'], { env });
      const created = JSON.parse(
        (
          await run(
            process.execPath,
            [cli, 'token', 'create', 'contoso', 'Entra connector', '30'],
            { env },
          )
        ).stdout,
      ) as { id: string; token: string; expiresAt: string };
      expect(created.token).toMatch(/^scim_/);
      const users = `http://127.0.0.1:${port}/contoso/scim/v2/Users`;
      const ok = await fetch(users, { headers: { authorization: `Bearer ${created.token}` } });
      expect(ok.status).toBe(200);
      const listed = JSON.parse(
        (await run(process.execPath, [cli, 'token', 'list', 'contoso'], { env })).stdout,
      ) as { id: string; status: string }[];
      expect(listed).toEqual([expect.objectContaining({ id: created.id, status: 'active' })]);
      expect(JSON.stringify(listed)).not.toContain(created.token);
      await run(process.execPath, [cli, 'token', 'revoke', 'contoso', created.id], { env });
      // The service caches token lookups for up to 5 s.
      let status = 200;
      for (let i = 0; i < 40 && status !== 401; i++) {
        await new Promise((r) => setTimeout(r, 250));
        status = (await fetch(users, { headers: { authorization: `Bearer ${created.token}` } }))
          .status;
      }
      expect(status).toBe(401);
      await expect(
        run(process.execPath, [cli, 'token', 'bogus', 'contoso'], { env }),
      ).rejects.toMatchObject({ code: 2 });
    } finally {
      expect(await p.stop('SIGTERM')).toBe(0);
    }
    expect(p.output()).not.toMatch(/scim_[A-Za-z0-9_-]{20}/);
    // Four CLI processes (each loads Nest and Prisma: seconds apiece on a busy machine) and a service.
  }, 120_000);
});
