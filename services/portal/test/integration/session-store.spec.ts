import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { applyMigrations } from '@idp/service-kit';
import { startPostgres, type TestPostgres } from '@idp/testing';
import { Pool } from 'pg';
import { PrismaService } from '../../src/db/prisma.service';
import { SessionCipher } from '../../src/session/session-cipher';
import type { PendingAuth, SessionData } from '../../src/session/session-data';
import { sessionRowId, SessionStore } from '../../src/session/session-store';
import { SessionRepository } from '../../src/session/session.repository';

const key = () => randomBytes(32).toString('base64');
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.secret-refresh-token-value.sig';

describe('session store (PostgreSQL, AES-256-GCM)', () => {
  let pg: TestPostgres;
  let pool: Pool;
  let prisma: PrismaService;
  let now: number;
  const clock = () => now;
  const data = (): SessionData => ({
    csrf: 'c',
    pending: {},
    msalCache: JSON.stringify({ RefreshToken: { x: { secret: TOKEN } } }),
  });

  const pendingAuth = (): PendingAuth => ({
    purpose: 'stepup',
    flow: 'b2c_1_signupsignin_mfa',
    nonce: 'n',
    codeVerifier: 'v',
    createdAt: now,
  });

  beforeAll(async () => {
    pg = await startPostgres();
    const url = await pg.createDatabase();
    await applyMigrations({
      databaseUrl: url,
      migrationsDir: join(__dirname, '..', '..', 'prisma', 'migrations'),
    });
    pool = new Pool({ connectionString: url });
    prisma = new PrismaService(pool);
  });
  afterAll(async () => {
    await prisma.$disconnect();
    await pool.end();
    await pg.stop();
  });
  beforeEach(() => {
    now = Date.parse('2026-11-22T10:00:00Z');
  });

  const storeWith = (keys: string[], idleSeconds = 600, absoluteSeconds = 3600) =>
    new SessionStore(
      new SessionRepository(prisma),
      new SessionCipher(keys),
      { idleSeconds, absoluteSeconds },
      clock,
    );

  it('keeps only ciphertext: neither the token nor the cookie value is in the table', async () => {
    const store = storeWith([key()]);
    const cookie = store.newCookieValue();
    await store.create(cookie, data());
    const { rows } = await pool.query<{ id: string; data: Buffer }>('SELECT id, data FROM session');
    const row = rows.find((r) => r.id === sessionRowId(cookie))!;
    expect(row).toBeDefined();
    expect(row.id).not.toContain(cookie);
    expect(row.data.toString('latin1')).not.toContain('secret-refresh-token-value');
    expect(row.data.toString('latin1')).not.toContain('RefreshToken');
    expect((await store.load(cookie))?.data.msalCache).toContain(TOKEN);
  });

  it('refuses a ciphertext moved to another row, a tampered one, and unknown cookies', async () => {
    const store = storeWith([key()]);
    const a = store.newCookieValue();
    const b = store.newCookieValue();
    await store.create(a, data());
    await store.create(b, { csrf: 'other', pending: {} });
    await pool.query(
      'UPDATE session SET data = (SELECT data FROM session WHERE id = $1) WHERE id = $2',
      [sessionRowId(a), sessionRowId(b)],
    );
    expect(await store.load(b)).toBeUndefined();
    await pool.query(
      'UPDATE session SET data = set_byte(data, 40, get_byte(data, 40) # 1) WHERE id = $1',
      [sessionRowId(a)],
    );
    expect(await store.load(a)).toBeUndefined();
    expect(await store.load(store.newCookieValue())).toBeUndefined();
    expect(await store.load('not a cookie')).toBeUndefined();
  });

  it('reads sessions sealed with a previous key and re-seals them with the current one; drops retired keys', async () => {
    const oldKey = key();
    const newKey = key();
    const before = storeWith([oldKey]);
    const cookie = before.newCookieValue();
    await before.create(cookie, data());
    const after = storeWith([newKey, oldKey]);
    const loaded = await after.load(cookie);
    expect(loaded?.staleKey).toBe(true);
    expect(await after.update(loaded!, loaded!.data)).toBe(true);
    expect((await storeWith([newKey]).load(cookie))?.data.msalCache).toContain(TOKEN);
    expect(await storeWith([key()]).load(cookie)).toBeUndefined();
  });

  it('expires after the idle timeout, and activity extends it', async () => {
    const store = storeWith([key()], 600, 3600);
    const cookie = store.newCookieValue();
    await store.create(cookie, data());
    now += 500_000;
    expect(await store.load(cookie)).toBeDefined(); // touches: idle window restarts
    now += 500_000;
    expect(await store.load(cookie)).toBeDefined();
    now += 601_000;
    expect(await store.load(cookie)).toBeUndefined();
    expect(
      (await pool.query('SELECT 1 FROM session WHERE id = $1', [sessionRowId(cookie)])).rowCount,
    ).toBe(0);
  });

  it('expires at the absolute timeout however active the user is', async () => {
    const store = storeWith([key()], 600, 1200);
    const cookie = store.newCookieValue();
    await store.create(cookie, data());
    for (let i = 0; i < 3; i++) {
      now += 300_000;
      const s = await store.load(cookie);
      expect(s).toBeDefined();
      expect(await store.update(s!, s!.data)).toBe(true);
    }
    now += 301_000; // 1201 s after creation, 301 s after the last request
    expect(await store.load(cookie)).toBeUndefined();
  });

  it('purges expired rows and destroys on demand', async () => {
    const store = storeWith([key()], 600, 3600);
    const keep = store.newCookieValue();
    const gone = store.newCookieValue();
    await store.create(gone, data());
    now += 700_000;
    await store.create(keep, data());
    expect(await store.purgeExpired()).toBeGreaterThanOrEqual(1);
    expect(await store.load(keep)).toBeDefined();
    await store.destroy(keep);
    expect(await store.load(keep)).toBeUndefined();
  });

  describe('an ended session stays ended', () => {
    const rowCount = async (cookie: string) =>
      (await pool.query('SELECT 1 FROM session WHERE id = $1', [sessionRowId(cookie)])).rowCount;

    it('does not write back a session destroyed after it was loaded', async () => {
      const store = storeWith([key()]);
      const cookie = store.newCookieValue();
      await store.create(cookie, data());
      const loaded = (await store.load(cookie))!;
      await store.destroy(cookie);
      expect(await store.update(loaded, { ...loaded.data, csrf: 'late' })).toBe(false);
      expect(await rowCount(cookie)).toBe(0);
      expect(await store.load(cookie)).toBeUndefined();
    });

    it('does not revive a session that expired after it was loaded', async () => {
      const store = storeWith([key()], 600, 3600);
      const cookie = store.newCookieValue();
      await store.create(cookie, data());
      const loaded = (await store.load(cookie))!;
      now += 601_000;
      expect(await store.update(loaded, loaded.data)).toBe(false);
      expect(await store.load(cookie)).toBeUndefined();
    });

    it('rotates a live session once: the old id is gone, and a second rotation or a late write creates nothing', async () => {
      const store = storeWith([key()]);
      const old = store.newCookieValue();
      await store.create(old, data());
      const loaded = (await store.load(old))!;
      const first = store.newCookieValue();
      const second = store.newCookieValue();
      expect(await store.rotate(old, first, loaded.data)).toBe(true);
      expect(await store.rotate(old, second, loaded.data)).toBe(false);
      expect(await store.update(loaded, loaded.data)).toBe(false);
      expect(await rowCount(old)).toBe(0);
      expect(await rowCount(second)).toBe(0);
      expect((await store.load(first))?.data.msalCache).toContain(TOKEN);
    });

    it('two writes of one loaded version both land: the later one merges into the earlier (compare-and-set on version)', async () => {
      const store = storeWith([key()]);
      const cookie = store.newCookieValue();
      await store.create(cookie, { ...data(), pending: { a: pendingAuth(), b: pendingAuth() } });
      const first = (await store.load(cookie))!;
      const second = (await store.load(cookie))!;
      // One request uses up state `a` and sets a flash; the other, loaded before it, adds `c`.
      const base1 = structuredClone(first.data);
      const rest = { ...first.data.pending };
      delete rest.a;
      expect(
        await store.update(
          first,
          { ...first.data, pending: rest, flash: { kind: 'success', message: 'saved' } },
          base1,
        ),
      ).toBe(true);
      const base2 = structuredClone(second.data);
      expect(
        await store.update(
          second,
          { ...second.data, pending: { ...second.data.pending, c: pendingAuth() } },
          base2,
        ),
      ).toBe(true);
      const latest = (await store.load(cookie))!;
      expect(Object.keys(latest.data.pending).sort()).toEqual(['b', 'c']);
      expect(latest.data.flash).toEqual({ kind: 'success', message: 'saved' });
      expect(latest.version).toBe(first.version + 2);
    });

    it('a sign-out in the data (another tenant) is not undone by a request that changed the user meanwhile', async () => {
      const store = storeWith([key()]);
      const cookie = store.newCookieValue();
      const user = {
        oid: 'o',
        homeAccountId: 'h',
        claims: { iss: 'https://old.example/v2.0/', given_name: 'Ann' },
        idTokenFlow: 'b2c_1_signupsignin',
        signedInAt: now,
      };
      await store.create(cookie, { ...data(), user });
      const signingOut = (await store.load(cookie))!;
      const editing = (await store.load(cookie))!;
      const base1 = structuredClone(signingOut.data);
      expect(
        await store.update(
          signingOut,
          { ...signingOut.data, user: undefined, msalCache: undefined },
          base1,
        ),
      ).toBe(true);
      // A profile edit loaded before the sign-out: new claims and a renewed token cache.
      const base2 = structuredClone(editing.data);
      const renewed = { ...user, claims: { ...user.claims, given_name: 'Anna' } };
      expect(
        await store.update(
          editing,
          { ...editing.data, user: renewed, msalCache: JSON.stringify({ renewed: TOKEN }) },
          base2,
        ),
      ).toBe(true);
      const latest = (await store.load(cookie))!;
      expect(latest.data.user).toBeUndefined();
      expect(latest.data.msalCache).toBeUndefined();
    });

    it('a rotation racing a sign-out of the same session creates no new session', async () => {
      const store = storeWith([key()]);
      const old = store.newCookieValue();
      await store.create(old, data());
      await store.destroy(old);
      const fresh = store.newCookieValue();
      expect(await store.rotate(old, fresh, data())).toBe(false);
      expect(await rowCount(fresh)).toBe(0);
    });
  });
});
