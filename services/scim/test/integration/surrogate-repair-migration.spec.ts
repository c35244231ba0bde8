import { cpSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyMigrations } from '@idp/service-kit';
import { startNats, startPostgres, type TestNatsServer, type TestPostgres } from '@idp/testing';
import { Client } from 'pg';
import { USER, startScim, type ScimTestApp } from '../support/scim-app';

// Documents stored before lone UTF-16 surrogates were refused are valid `json` but not `jsonb`:
// they broke every jsonb filter of their directory and the scim_case_fold migration (which
// stopped `npm run up` on an existing dev database). Migration 20261208005000 repairs them.

const MIGRATIONS = join(__dirname, '..', '..', 'prisma', 'migrations');
const REPAIR = '20261208005000_scim_lone_surrogates';

/** The migrations folder as it was before the repair existed. */
function migrationsBefore(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'scim-mig-'));
  for (const m of readdirSync(MIGRATIONS))
    if (m < name || m === 'migration_lock.toml')
      cpSync(join(MIGRATIONS, m), join(dir, m), { recursive: true });
  return dir;
}

// JSON texts as an older service stored them (backslashes are literal here: String.raw).
const USERS: Record<string, { data: string; want: unknown }> = {
  'lone-high': {
    data: String.raw`{"schemas":["${USER}"],"userName":"lone-high","displayName":"a\ud800b"}`,
    want: { displayName: 'a\uFFFDb' },
  },
  'lone-low-key': {
    data: String.raw`{"schemas":["${USER}"],"userName":"lone-low-key","nickName":"\udc00\udc00"}`,
    want: { nickName: '\uFFFD\uFFFD' },
  },
  'high-then-pair': {
    data: String.raw`{"schemas":["${USER}"],"userName":"high-then-pair","title":"\ud800\ud83d\ude00"}`,
    want: { title: '\uFFFD\u{1F600}' },
  },
};
// Left exactly as stored: a real pair, and an escaped backslash followed by the letters "ud800".
const UNTOUCHED: Record<string, string> = {
  pair: String.raw`{"schemas":["${USER}"],"userName":"pair","title":"\ud83d\ude00"}`,
  'escaped-backslash': String.raw`{"schemas":["${USER}"],"userName":"escaped-backslash","title":"\\ud800 \\\ud83d\ude00"}`,
};

describe(`migration ${REPAIR}`, () => {
  let pg: TestPostgres;
  let nats: TestNatsServer;
  let url: string;
  let db: Client;
  beforeAll(async () => {
    [pg, nats] = await Promise.all([startPostgres(), startNats()]);
    url = await pg.createDatabase();
    await applyMigrations({ databaseUrl: url, migrationsDir: migrationsBefore(REPAIR) });
    db = new Client({ connectionString: url });
    await db.connect();
    await db.query(`INSERT INTO directories (id) VALUES ('old')`);
    const all = {
      ...Object.fromEntries(Object.entries(USERS).map(([k, v]) => [k, v.data])),
      ...UNTOUCHED,
    };
    for (const [name, data] of Object.entries(all))
      await db.query(
        `INSERT INTO scim_users (id, directory_id, user_name, user_name_lower, display_name, data, emails_lower)
         VALUES ($1, 'old', $1, $1, $2, $3::json, '{}')`,
        // The old service's display_name: the driver encodes a lone surrogate as U+FFFD.
        [name, name === 'lone-high' ? 'a\ud800b' : null, data],
      );
    await db.query(
      `INSERT INTO scim_groups (id, directory_id, display_name, display_name_lower, data)
       VALUES ('g', 'old', 'g', 'g', $1::json)`,
      [
        String.raw`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g","x":"\udc00"}`,
      ],
    );
  });
  afterAll(async () => {
    await db?.end();
    await Promise.all([pg?.stop(), nats?.dispose()]);
  });

  it('the documents were unreadable as jsonb before it', async () => {
    await expect(db.query(`SELECT data::jsonb FROM scim_users`)).rejects.toThrow(/surrogate|json/i);
  });

  describe('after it (and every later migration)', () => {
    let s: ScimTestApp;
    let token: string;
    beforeAll(async () => {
      const applied = await applyMigrations({ databaseUrl: url, migrationsDir: MIGRATIONS });
      expect(applied[0]).toBe(REPAIR);
      expect(applied).toContain('20261208010000_scim_case_fold');
      s = await startScim({ DATABASE_URL: url }, { shared: { pg, nats } });
      token = await s.directory('old');
    });
    afterAll(async () => {
      await s?.close();
    });

    it('every stored document reads as jsonb; lone surrogates became U+FFFD and their versions moved', async () => {
      const rows = (
        await db.query<{ id: string; doc: Record<string, unknown>; version: number; text: string }>(
          `SELECT id, data::jsonb AS doc, version, data::text AS text FROM scim_users`,
        )
      ).rows;
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const [name, { want }] of Object.entries(USERS)) {
        expect(byId.get(name)?.doc).toMatchObject(want as object);
        expect(byId.get(name)?.version).toBe(2);
      }
      for (const [name, data] of Object.entries(UNTOUCHED)) {
        expect(byId.get(name)?.text).toBe(data);
        expect(byId.get(name)?.version).toBe(1);
      }
      const group = (await db.query(`SELECT data::jsonb AS doc, version FROM scim_groups`)).rows[0];
      expect(group).toEqual({ doc: expect.objectContaining({ x: '\uFFFD' }), version: 2 });
    });

    it('filters of the directory work again', async () => {
      const r = await s.request('GET', `/scim/v2/Users?filter=${encodeURIComponent('title pr')}`, {
        token,
      });
      expect(r.status).toBe(200);
      expect(r.body.Resources.map((u: { userName: string }) => u.userName).sort()).toEqual([
        'escaped-backslash',
        'high-then-pair',
        'pair',
      ]);
      const dn = await s.request(
        'GET',
        `/scim/v2/Users?filter=${encodeURIComponent('displayName co "\uFFFD"')}`,
        {
          token,
        },
      );
      expect(dn.body.Resources.map((u: { userName: string }) => u.userName)).toEqual(['lone-high']);
    });
  });
});
