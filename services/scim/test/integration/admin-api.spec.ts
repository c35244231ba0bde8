import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { TokenIssuer } from '@idp/testing';
import { Pool } from 'pg';
import { PrismaService } from '../../src/db/prisma.service';
import { TokensRepository } from '../../src/tokens/tokens.repository';
import { ProvisioningLogService } from '../../src/provisioning-log/provisioning-log.service';
import {
  startScim,
  USER,
  type ScimTestApp,
  startScimWithAdmin,
  type ScimAdminApp,
  adminEnv,
} from '../support/scim-app';

const DAY = 86_400_000;

// The admin side under attack and load: races, hostile parameters, retention edges, the CLI.
describe('admin API, tokens and cleanup under hostile input and concurrency', () => {
  let s: ScimTestApp;
  let idp: TokenIssuer;
  let admin: string;
  let app: ScimAdminApp;
  beforeAll(async () => {
    app = await startScimWithAdmin({
      SCIM_MAX_TOKENS_PER_DIRECTORY: '3',
    });
    ({ s, idp, admin } = app);
  });
  afterAll(() => app.close());

  const asAdmin: ScimAdminApp['asAdmin'] = (...a) => app.asAdmin(...a);
  /** Creates a directory explicitly (201), as an operator must before anything else. */
  const createDirectory = async (id: string, settings: Record<string, unknown> = {}) =>
    expect((await asAdmin('POST', '/admin/directories', { id, ...settings })).status).toBe(201);

  describe('token cap', () => {
    it('holds when creations race at the cap, for a new directory and one that has tokens', async () => {
      const burst = (dir: string) =>
        Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            asAdmin('POST', `/admin/directories/${dir}/tokens`, { name: `t${i}` }),
          ),
        );
      await createDirectory('race-new');
      for (const dir of ['race-new', 'race-new']) {
        const replies = await burst(dir);
        const statuses = replies.map((r) => r.status).sort();
        expect(statuses.every((c) => c === 201 || c === 409)).toBe(true);
        const live = await s.app
          .get(PrismaService)
          .scimToken.count({ where: { directoryId: dir, revokedAt: null } });
        expect(live).toBe(3);
      }
      await createDirectory('race-cap', { maxTokens: 2 });
      const replies = await burst('race-cap');
      expect(replies.filter((r) => r.status === 201)).toHaveLength(2);
      expect(replies.filter((r) => r.status === 409)).toHaveLength(6);
    });

    it('creating a directory by concurrent POSTs creates it once (one 201, the rest 409), never 500', async () => {
      const replies = await Promise.all(
        Array.from({ length: 8 }, () =>
          asAdmin('POST', '/admin/directories', { id: 'post-race', maxTokens: 4 }),
        ),
      );
      expect(replies.map((r) => r.status).sort()).toEqual([201, ...Array(7).fill(409)]);
      const updates = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          asAdmin('PUT', '/admin/directories/post-race', { maxTokens: i + 1 }),
        ),
      );
      expect(updates.map((r) => r.status)).toEqual(Array(8).fill(200));
    });
  });

  describe('hostile parameters', () => {
    it('NUL and control characters in names, token ids and log filters are 400, never 500', async () => {
      await createDirectory('hostile');
      const bad = [
        await asAdmin('POST', '/admin/directories/hostile/tokens', { name: 'a\u0000b' }),
        await asAdmin('POST', '/admin/directories/hostile/tokens', { name: 'line\nbreak' }),
        await asAdmin('DELETE', '/admin/directories/hostile/tokens/%00'),
        await asAdmin('GET', '/admin/directories/hostile/provisioning-log?resourceType=%00'),
        await asAdmin('GET', '/admin/directories/hostile/provisioning-log?resourceId=a%00'),
        await asAdmin('GET', '/admin/directories/hostile/provisioning-log/export?resourceId=%00'),
      ];
      for (const r of bad) {
        expect(r.status).toBe(400);
        expect(r.body).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
      }
      const tokens = await asAdmin('GET', '/admin/directories/hostile/tokens');
      expect(tokens.body).toEqual({ items: [] });
      // Printable names, including non-ASCII, are fine.
      const ok = await asAdmin('POST', '/admin/directories/hostile/tokens', {
        name: ' Entra – Zürich ',
      });
      expect(ok.status).toBe(201);
      expect(ok.body.name).toBe('Entra – Zürich');
    });

    it('misspelt or unknown parameters and body keys are 400 naming them, not silently ignored', async () => {
      await createDirectory('strict', { maxTokens: 2 });
      const cases = [
        await asAdmin('GET', '/admin/directories/strict/provisioning-log?outcomes=failure'),
        await asAdmin('GET', '/admin/directories/strict/provisioning-log?resourceID=abc'),
        await asAdmin('GET', '/admin/directories/strict/provisioning-log/export?limit=5'),
        await asAdmin('POST', '/admin/directories/strict/cleanup?dry_run=false'),
        await asAdmin('PUT', '/admin/directories/strict', { profile: 'aws', maxToken: 1 }),
        await asAdmin('POST', '/admin/directories/strict/tokens', { name: 'n', lifetime: 5 }),
      ];
      for (const r of cases) {
        expect(r.status).toBe(400);
        expect(r.body.error_description).toMatch(
          /"(outcomes|resourceID|limit|dry_run|maxToken|lifetime)"/,
        );
      }
      // Nothing was changed by the refused PUT.
      expect((await asAdmin('GET', '/admin/directories/strict')).body).toMatchObject({
        profile: 'default',
        maxTokens: 2,
      });
      expect((await asAdmin('GET', '/admin/directories/strict/tokens')).body).toEqual({
        items: [],
      });
    });
  });

  describe('provisioning log API', () => {
    it('never records names, addresses or long strings a caller put in the URL as ids', async () => {
      const token = await s.directory('log-ids');
      const user = await s.request('POST', '/scim/v2/Users', {
        token,
        body: { schemas: [USER], userName: 'kept@contoso.com' },
      });
      const missing = '6a1f1b40-0c4e-4c86-9d9e-5f0d3b7c2a10';
      await s.request('GET', `/scim/v2/Users/${user.body.id}`, { token });
      await s.request('GET', `/scim/v2/Users/${missing}`, { token });
      await s.request('GET', '/scim/v2/Users/alice.smith@contoso.com', { token });
      await s.request('DELETE', '/scim/v2/Groups/John%20Doe', { token });
      await s.request('GET', `/log-ids/scim/v2/Users/bob@contoso.com`);
      await s.request('GET', `/${'x'.repeat(80)}/scim/v2/Users/${missing}`);
      await s.app.get(ProvisioningLogService).flush();
      const rows = (
        await asAdmin('GET', '/admin/directories/log-ids/provisioning-log?resourceType=User')
      ).body.items as { resourceId: string | null; status: number; method: string }[];
      expect(rows.map((r) => [r.method, r.status, r.resourceId]).reverse()).toEqual([
        ['POST', 201, user.body.id],
        ['GET', 200, user.body.id],
        ['GET', 404, missing],
        ['GET', 404, null],
        ['GET', 401, null],
      ]);
      const groups = await asAdmin(
        'GET',
        '/admin/directories/log-ids/provisioning-log?resourceType=Group',
      );
      expect(groups.body.items).toMatchObject([{ method: 'DELETE', resourceId: null }]);
      const all = await s.app.get(PrismaService).provisioningLog.findMany();
      const text = JSON.stringify(all, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
      for (const leak of ['alice.smith', 'John Doe', 'bob@contoso.com', 'x'.repeat(65)])
        expect(text).not.toContain(leak);
      // The request to the 80-character directory is still logged, without its directory.
      expect(all.find((r) => r.directoryId === null && r.status === 401)).toMatchObject({
        resourceId: missing,
      });
    });

    it('filters searches by operation=search, and before=0 is an empty page', async () => {
      const token = await s.directory('log-ops');
      await s.request('POST', '/scim/v2/Users/.search', {
        token,
        body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'] },
      });
      await s.request('POST', '/scim/v2/.search', {
        token,
        body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'] },
      });
      await s.request('GET', '/scim/v2/Users', { token });
      await s.app.get(ProvisioningLogService).flush();
      const searches = await asAdmin(
        'GET',
        '/admin/directories/log-ops/provisioning-log?operation=search',
      );
      expect(searches.status).toBe(200);
      expect(
        searches.body.items.map((i: { resourceType: string; operation: string }) => [
          i.operation,
          i.resourceType,
        ]),
      ).toEqual([
        ['search', 'All'],
        ['search', 'User'],
      ]);
      const exported = await asAdmin(
        'GET',
        '/admin/directories/log-ops/provisioning-log/export?operation=search',
      );
      expect(exported.text.trim().split('\n')).toHaveLength(2);
      // No row has an id below 1: the page before 0 is empty, not the newest page.
      const before0 = await asAdmin('GET', '/admin/directories/log-ops/provisioning-log?before=0');
      expect(before0.status).toBe(200);
      expect(before0.body).toEqual({ items: [] });
    });
  });

  describe('token expiry metrics', () => {
    const metricsUntil = async (ok: (text: string) => boolean): Promise<string> => {
      let text = '';
      for (let i = 0; i < 50; i++) {
        text = (await s.request('GET', '/metrics')).text;
        if (ok(text)) return text;
        await new Promise((r) => setTimeout(r, 20));
      }
      return text;
    };

    it('follow a token created or revoked through the admin API at once, not at the next hourly check', async () => {
      await createDirectory('gauge');
      const created = await asAdmin('POST', '/admin/directories/gauge/tokens', {
        name: 'short-lived',
        lifetimeDays: 10,
      });
      expect(created.status).toBe(201);
      const expiring = /scim_tokens_expiring\{directory="gauge"\} 1/;
      expect(await metricsUntil((t) => expiring.test(t))).toMatch(expiring);
      expect(await metricsUntil((t) => expiring.test(t))).toMatch(
        new RegExp(`scim_token_days_left\\{directory="gauge",token_id="${created.body.id}"\\} 10`),
      );
      await asAdmin('DELETE', `/admin/directories/gauge/tokens/${created.body.id}`);
      const gone = await metricsUntil((t) => !/directory="gauge"/.test(t));
      expect(gone).not.toMatch(/directory="gauge"/);
    });
  });

  describe('revocation', () => {
    it('refuses every request that starts after DELETE /tokens/{id} answered, even when a lookup read the token before the revocation', async () => {
      await createDirectory('revoke-race');
      const created = await asAdmin('POST', '/admin/directories/revoke-race/tokens', {
        name: 'slow lookup',
      });
      const token: string = created.body.token;
      // Hold the next token lookup after its read, as a slow database reply would.
      const repo = s.app.get(TokensRepository);
      const read = repo.findByHash.bind(repo);
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let reading!: () => void;
      const hasRead = new Promise<void>((r) => (reading = r));
      const spy = jest.spyOn(repo, 'findByHash').mockImplementationOnce(async (hash) => {
        const row = await read(hash);
        reading();
        await held;
        return row;
      });
      try {
        const concurrent = s.request('GET', '/scim/v2/Users?count=1', { token });
        await hasRead;
        const revoked = await asAdmin(
          'DELETE',
          `/admin/directories/revoke-race/tokens/${created.body.id}`,
        );
        expect(revoked.body.status).toBe('revoked');
        release();
        // Concurrent with the revocation: it may pass.
        expect((await concurrent).status).toBe(200);
      } finally {
        spy.mockRestore();
      }
      for (let i = 0; i < 3; i++)
        expect((await s.request('GET', '/scim/v2/Users?count=1', { token })).status).toBe(401);
    });
  });

  describe('cleanup', () => {
    const deactivated = async (app: ScimTestApp, dir: string, n: number, daysAgo: number) => {
      const token = await app.directory(dir);
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const u = await app.request('POST', '/scim/v2/Users', {
          token,
          body: { schemas: [USER], userName: `gone${i}@${dir}`, active: false },
        });
        ids.push(u.body.id);
      }
      await app.app.get(PrismaService).scimUser.updateMany({
        where: { id: { in: ids } },
        data: { deactivatedAt: new Date(Date.now() - daysAgo * DAY) },
      });
      return { token, ids };
    };

    it('reports how many users are due, not only the listed ids', async () => {
      const { ids } = await deactivated(s, 'clean-count', 3, 120);
      const dry = await asAdmin('POST', '/admin/directories/clean-count/cleanup');
      expect(dry.body).toMatchObject({ dryRun: true, retentionDays: 90, candidateCount: 3 });
      expect(dry.body.candidates.map((c: { id: string }) => c.id).sort()).toEqual([...ids].sort());
    });

    it('with retention 0 (purging disabled) reports no candidates and purges nothing', async () => {
      const off = await startScim(
        {
          ...adminEnv(idp),
          SCIM_DEACTIVATED_RETENTION_DAYS: '0',
        },
        { shared: { pg: s.pg, nats: s.nats } },
      );
      try {
        const { token, ids } = await deactivated(off, 'keep', 2, 400);
        const asOffAdmin = (url: string) => off.request('POST', url, { token: admin });
        const dry = await asOffAdmin('/admin/directories/keep/cleanup');
        expect(dry.status).toBe(200);
        expect(dry.body).toMatchObject({
          dryRun: true,
          retentionDays: 0,
          cutoff: null,
          candidateCount: 0,
          candidates: [],
          purged: 0,
        });
        const run = await asOffAdmin('/admin/directories/keep/cleanup?dryRun=false');
        expect(run.body).toMatchObject({ dryRun: false, candidates: [], purged: 0 });
        for (const id of ids)
          expect((await off.request('GET', `/scim/v2/Users/${id}`, { token })).status).toBe(200);
      } finally {
        await off.close();
      }
    });
  });

  describe('admin CLI', () => {
    const cli = join(__dirname, '..', '..', 'dist', 'cli', 'admin-cli.js');
    const run = (args: string[], env: Record<string, string | undefined>) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(process.execPath, [cli, ...args], { env }, (e, stdout, stderr) =>
          resolve({ code: typeof e?.code === 'number' ? e.code : 0, stdout, stderr }),
        ),
      );
    const env = () => ({
      PATH: process.env.PATH,
      DATABASE_URL: s.databaseUrl,
      SCIM_MAX_TOKENS_PER_DIRECTORY: '3',
    });

    it('refuses bad input with exit code 2 and one line, as the admin API would, storing nothing', async () => {
      for (const args of [
        ['token', 'create', 'cli-bad', '   '],
        ['token', 'create', 'cli-bad', 'x'.repeat(101)],
        ['token', 'create', 'cli-bad', 'a\u0001b'],
        ['token', 'create', 'cli-bad', 'n', '99999999'],
        ['token', 'create', 'cli-bad', 'n', '0x10'],
        ['token', 'create', 'cli-bad', 'n', '0'],
        ['token', 'list', 'cli-bad', 'extra'],
        ['token', 'revoke', 'cli-bad'],
      ]) {
        const r = await run(args, env());
        expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 2, stdout: '' });
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
      }
      expect(
        await s.app.get(PrismaService).scimToken.count({ where: { directoryId: 'cli-bad' } }),
      ).toBe(0);
    });

    it('fails with exit code 1 and one line when the command cannot be done', async () => {
      const noDb = await run(['token', 'list', 'cli-x'], { PATH: process.env.PATH });
      expect(noDb.code).toBe(1);
      expect(noDb.stderr.trim()).toMatch(/^Invalid configuration: .*DATABASE_URL/);
      const down = await run(['token', 'list', 'cli-x'], {
        PATH: process.env.PATH,
        DATABASE_URL: 'postgresql://u:p@127.0.0.1:1/none',
      });
      expect(down.code).toBe(1);
      expect(down.stderr.trim().split('\n')).toHaveLength(1);
      expect(down.stderr).toMatch(/reach database server/);
      const noDir = await run(['token', 'revoke', 'cli-x', 'nope'], env());
      expect({ code: noDir.code, stderr: noDir.stderr.trim() }).toEqual({
        code: 1,
        stderr: 'Directory not found',
      });
      expect((await run(['directory', 'create', 'cli-x'], env())).code).toBe(0);
      const missing = await run(['token', 'revoke', 'cli-x', 'nope'], env());
      expect({ code: missing.code, stderr: missing.stderr.trim() }).toEqual({
        code: 1,
        stderr: 'Token not found',
      });
    });

    it('creates within the cap, prints the secret once, lists and revokes', async () => {
      expect((await run(['directory', 'create', 'cli-ok'], env())).code).toBe(0);
      const created = await run(['token', 'create', 'cli-ok', ' connector ', '30'], env());
      expect(created.code).toBe(0);
      const token = JSON.parse(created.stdout) as { id: string; name: string; token: string };
      expect(token.name).toBe('connector');
      expect((await s.request('GET', '/scim/v2/Users', { token: token.token })).status).toBe(200);
      const list = await run(['token', 'list', 'cli-ok'], env());
      expect(list.stdout).not.toContain(token.token);
      for (let i = 0; i < 2; i++) await run(['token', 'create', 'cli-ok', `t${i}`], env());
      const over = await run(['token', 'create', 'cli-ok', 'one too many'], env());
      expect(over.code).toBe(1);
      expect(over.stderr.trim()).toMatch(/cap 3/);
      const revoked = await run(['token', 'revoke', 'cli-ok', token.id], env());
      expect(JSON.parse(revoked.stdout)).toMatchObject({ id: token.id, status: 'revoked' });
    });
  });

  describe('database busy', () => {
    it('answers 503 (retry later), never 500, when a statement times out, then serves again', async () => {
      const slow = await startScim(
        {
          ...adminEnv(idp),
          DATABASE_STATEMENT_TIMEOUT_MS: '300',
        },
        { shared: { pg: s.pg, nats: s.nats } },
      );
      const db = new Pool({ connectionString: slow.databaseUrl, max: 1 });
      try {
        await slow.directory('busy');
        const json = { 'content-type': 'application/json' };
        const calls: [string, string, unknown?][] = [
          ['GET', '/admin/directories/busy/tokens'],
          ['POST', '/admin/directories/busy/tokens', { name: 'n' }],
          ['DELETE', '/admin/directories/busy/tokens/x'],
          ['GET', '/admin/directories/busy/provisioning-log'],
          ['GET', '/admin/directories/busy/provisioning-log/export'],
          ['GET', '/admin/directories/busy'],
          ['PUT', '/admin/directories/busy', { maxTokens: 10 }],
          ['POST', '/admin/directories/busy/cleanup'],
        ];
        // Per locked table, the answer of each call in order: 503 where the call needs the table.
        // Every route checks its directory first, so a locked directories table stops them all;
        // the audit trail is written with each change, so a locked admin_audit stops the changes.
        const expected: Record<string, number[]> = {
          scim_tokens: [503, 503, 503, 200, 200, 200, 200, 200],
          provisioning_log: [200, 201, 404, 503, 503, 200, 200, 200],
          directories: [503, 503, 503, 503, 503, 503, 503, 503],
          scim_users: [200, 201, 404, 200, 200, 200, 200, 503],
          admin_audit: [200, 503, 404, 200, 200, 200, 503, 200],
        };
        const blocker = await db.connect();
        try {
          for (const [table, statuses] of Object.entries(expected)) {
            await blocker.query('BEGIN');
            await blocker.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
            const got: number[] = [];
            for (const [method, url, body] of calls) {
              const r = await slow.request(method, url, {
                token: admin,
                body,
                headers: body === undefined ? {} : json,
              });
              got.push(r.status);
              if (r.status === 503)
                expect(r.body).toEqual({
                  error: 'temporarily_unavailable',
                  error_description: expect.stringMatching(/retry later/),
                });
            }
            await blocker.query('ROLLBACK');
            expect({ table, got }).toEqual({ table, got: statuses });
          }
        } finally {
          blocker.release();
        }
        expect(
          (await slow.request('GET', '/admin/directories/busy/tokens', { token: admin })).status,
        ).toBe(200);
      } finally {
        await db.end();
        await slow.close();
      }
    });
  });

  describe('provisioning-log retention', () => {
    const env = (more: Record<string, string>) => ({
      NODE_ENV: 'test',
      DATABASE_STATEMENT_TIMEOUT_MS: '150',
      ...more,
    });
    const oldRows = (db: Pool, n: number, daysAgo: number) =>
      db.query(
        `INSERT INTO provisioning_log (directory_id, at, request_id, method, operation, resource_type, outcome, status, duration_ms)
         SELECT 'big', now() - make_interval(days => $2) - g * interval '1 ms', 'r' || g, 'GET', 'list', 'User', 'success', 200, 1
         FROM generate_series(1, $1) g`,
        [n, daysAgo],
      );

    it('purges a backlog larger than one statement can delete within the statement timeout', async () => {
      const app = await startScim(env({}), { shared: { pg: s.pg, nats: s.nats } });
      const db = new Pool({ connectionString: app.databaseUrl, max: 1 });
      try {
        await oldRows(db, 400_000, 40);
        await oldRows(db, 10, 1);
        expect(await app.app.get(ProvisioningLogService).purgeExpired()).toBe(400_000);
        const left = await db.query<{ n: string }>('SELECT count(*) AS n FROM provisioning_log');
        expect(left.rows[0]?.n).toBe('10');
      } finally {
        await db.end();
        await app.close();
      }
    }, 60_000);

    it('purges in smaller batches when a busy database makes a batch outlast the statement timeout', async () => {
      const app = await startScim(env({}), { shared: { pg: s.pg, nats: s.nats } });
      const db = new Pool({ connectionString: app.databaseUrl, max: 1 });
      try {
        await oldRows(db, 6_000, 40);
        // Stands in for a loaded server: a DELETE reaching its 2,000th row stalls past the
        // 150 ms statement timeout (each batch is its own transaction, so the count restarts).
        await db.query(`
          CREATE FUNCTION stall_big_delete() RETURNS trigger LANGUAGE plpgsql AS $$
          DECLARE n int := coalesce(nullif(current_setting('purge.rows', true), ''), '0')::int + 1;
          BEGIN
            PERFORM set_config('purge.rows', n::text, true);
            IF n = 2000 THEN PERFORM pg_sleep(1); END IF;
            RETURN OLD;
          END $$;
          CREATE TRIGGER stall_big_delete BEFORE DELETE ON provisioning_log
            FOR EACH ROW EXECUTE FUNCTION stall_big_delete();`);
        expect(await app.app.get(ProvisioningLogService).purgeExpired()).toBe(6_000);
        const left = await db.query<{ n: string }>('SELECT count(*) AS n FROM provisioning_log');
        expect(left.rows[0]?.n).toBe('0');
      } finally {
        await db.end();
        await app.close();
      }
    }, 60_000);

    it('the scheduled job purges the log even when the user purge fails', async () => {
      const app = await startScim(
        env({ SCIM_CLEANUP_INTERVAL_MS: '1000', SCIM_DEACTIVATED_RETENTION_DAYS: '30' }),
        { shared: { pg: s.pg, nats: s.nats }, background: true },
      );
      const db = new Pool({ connectionString: app.databaseUrl, max: 2 });
      const blocker = await db.connect();
      try {
        await oldRows(db, 3, 40);
        // The user purge cannot read scim_users: it times out on every run.
        await blocker.query('BEGIN');
        await blocker.query('LOCK TABLE scim_users IN ACCESS EXCLUSIVE MODE');
        let left = '3';
        for (let i = 0; i < 50 && left !== '0'; i++) {
          await new Promise((r) => setTimeout(r, 100));
          left = (await db.query<{ n: string }>('SELECT count(*) AS n FROM provisioning_log'))
            .rows[0]!.n;
        }
        expect(left).toBe('0');
      } finally {
        await blocker.query('ROLLBACK');
        blocker.release();
        await db.end();
        await app.close();
      }
    });
  });
});
