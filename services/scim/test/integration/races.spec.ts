import { Pool } from 'pg';
import {
  expectScimError,
  GROUP,
  patchOp,
  startScim,
  USER,
  type Reply,
  type ScimTestApp,
} from '../support/scim-app';

// Concurrent writers on one resource, as Entra's parallel provisioning and a retrying client make
// them: every request gets a correct SCIM answer (never a 500 from a deadlock, a serialization
// failure or a foreign-key race), and the stored state is what some serial order would give.

const N = 12;

describe('concurrent writes', () => {
  let s: ScimTestApp;
  let token: string;
  beforeAll(async () => {
    s = await startScim();
    token = await s.directory('races');
  });
  afterAll(async () => s.close());

  const req = (method: string, url: string, body?: unknown, headers?: Record<string, string>) =>
    s.request(method, url, { token, body, ...(headers ? { headers } : {}) });
  const newUser = async (userName: string): Promise<string> => {
    const r = await req('POST', '/scim/v2/Users', {
      schemas: [USER],
      userName,
      displayName: userName,
    });
    expect(r.status).toBe(201);
    return r.body.id as string;
  };
  const newGroup = async (displayName: string, members: string[] = []): Promise<string> => {
    const r = await req('POST', '/scim/v2/Groups', {
      schemas: [GROUP],
      displayName,
      members: members.map((value) => ({ value })),
    });
    expect(r.status).toBe(201);
    return r.body.id as string;
  };
  const memberIds = async (groupId: string): Promise<string[]> =>
    ((await req('GET', `/scim/v2/Groups/${groupId}`)).body.members ?? [])
      .map((m: { value: string }) => m.value)
      .sort();
  const statuses = (rs: Reply[]) => rs.map((r) => r.status).sort();
  const noServerErrors = (rs: Reply[]) =>
    expect(rs.filter((r) => r.status >= 500).map((r) => r.text)).toEqual([]);

  it('N POSTs of one userName (any case): one 201, the rest 409 uniqueness, one user', async () => {
    const rs = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        req('POST', '/scim/v2/Users', {
          schemas: [USER],
          userName: i % 2 ? 'Same.User@contoso.com' : 'same.user@CONTOSO.com',
        }),
      ),
    );
    expect(statuses(rs)).toEqual([201, ...Array<number>(N - 1).fill(409)]);
    for (const r of rs.filter((x) => x.status === 409)) expectScimError(r, 409, 'uniqueness');
    const list = await req('GET', '/scim/v2/Users?filter=userName eq "same.user@contoso.com"');
    expect(list.body.totalResults).toBe(1);
  });

  it('N POSTs of one group displayName: one 201, the rest 409 uniqueness, one group', async () => {
    const rs = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        req('POST', '/scim/v2/Groups', {
          schemas: [GROUP],
          displayName: i % 2 ? 'Race Group' : 'RACE group',
        }),
      ),
    );
    expect(statuses(rs)).toEqual([201, ...Array<number>(N - 1).fill(409)]);
    for (const r of rs.filter((x) => x.status === 409)) expectScimError(r, 409, 'uniqueness');
    const list = await req('GET', '/scim/v2/Groups?filter=displayName eq "race group"');
    expect(list.body.totalResults).toBe(1);
  });

  it('concurrent renames of different groups to one free name: exactly one wins', async () => {
    const ids = await Promise.all(
      Array.from({ length: 6 }, (_, i) => newGroup(`Rename source ${i}`)),
    );
    const rs = await Promise.all(
      ids.map((id) =>
        req(
          'PATCH',
          `/scim/v2/Groups/${id}`,
          patchOp({ op: 'replace', path: 'displayName', value: 'Rename Target' }),
        ),
      ),
    );
    expect(statuses(rs)).toEqual([204, ...Array<number>(5).fill(409)]);
    const list = await req('GET', '/scim/v2/Groups?filter=displayName eq "Rename Target"');
    expect(list.body.totalResults).toBe(1);
  });

  it('concurrent PATCHes adding different members to one group lose none', async () => {
    const users = await Promise.all(
      Array.from({ length: N * 3 }, (_, i) => newUser(`adder${i}@contoso.com`)),
    );
    const g = await newGroup('Parallel adds');
    const rs = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        req(
          'PATCH',
          `/scim/v2/Groups/${g}`,
          patchOp({
            op: 'add',
            path: 'members',
            value: users.slice(i * 3, i * 3 + 3).map((value) => ({ value })),
          }),
        ),
      ),
    );
    expect(statuses(rs)).toEqual(Array<number>(N).fill(204));
    expect(await memberIds(g)).toEqual([...users].sort());
    // Every added user shows the group, with a version that moved.
    const u = await req('GET', `/scim/v2/Users/${users[0]}`);
    expect(u.body.groups).toEqual([expect.objectContaining({ value: g })]);
  });

  it('many concurrent PATCHes of one user all apply (none starves into a 409)', async () => {
    const id = await newUser('popular@contoso.com');
    const n = 80;
    const rs = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        req(
          'PATCH',
          `/scim/v2/Users/${id}`,
          patchOp({ op: 'add', path: 'emails', value: [{ type: 'other', value: `e${i}@x.com` }] }),
        ),
      ),
    );
    expect(statuses(rs)).toEqual(Array<number>(n).fill(200));
    const now = (await req('GET', `/scim/v2/Users/${id}`)).body;
    expect(now.emails).toHaveLength(n);
    expect(now.meta.version).toBe(`W/"${n + 1}"`);
  });

  it('a burst of PATCHes of one user waits for its lock on one pooled connection, not the whole pool', async () => {
    const id = await newUser('burst@contoso.com');
    const other = await newUser('bystander@contoso.com');
    // Sessions of this process waiting for a user's lock (UsersRepository.serialized).
    const monitor = new Pool({ connectionString: s.databaseUrl, max: 1 });
    let most = 0;
    let done = false;
    const sample = (async () => {
      while (!done) {
        const { rows } = await monitor.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE wait_event = 'advisory' AND query LIKE '%hashtextextended%'`,
        );
        most = Math.max(most, rows[0]?.n ?? 0);
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    try {
      const burst = Array.from({ length: 60 }, (_, i) =>
        req(
          'PATCH',
          `/scim/v2/Users/${id}`,
          patchOp({ op: 'replace', path: 'title', value: `t${i}` }),
        ),
      );
      // Other requests of the replica still get a connection meanwhile.
      expect((await req('GET', `/scim/v2/Users/${other}`)).status).toBe(200);
      expect(statuses(await Promise.all(burst))).toEqual(Array<number>(60).fill(200));
    } finally {
      done = true;
      await sample;
      await monitor.end();
    }
    expect(most).toBeLessThanOrEqual(1);
    expect((await req('GET', `/scim/v2/Users/${id}`)).body.meta.version).toBe('W/"61"');
  });

  it('writers queued behind a user lock held elsewhere answer 503 within one statement timeout, not one timeout each', async () => {
    const t = await startScim(
      { DATABASE_STATEMENT_TIMEOUT_MS: '1000' },
      { shared: { pg: s.pg, nats: s.nats } },
    );
    const holder = new Pool({ connectionString: t.databaseUrl, max: 1 });
    const c = await holder.connect();
    try {
      const tok = await t.directory('held');
      const created = await t.request('POST', '/scim/v2/Users', {
        token: tok,
        body: { schemas: [USER], userName: 'held@contoso.com' },
      });
      // Another replica's writer of the user holds its lock (UsersRepository.serialized).
      await c.query('BEGIN');
      await c.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [
        `scim_user:${created.body.id}`,
      ]);
      const started = Date.now();
      const rs = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          t.request('PATCH', `/scim/v2/Users/${created.body.id}`, {
            token: tok,
            body: patchOp({ op: 'replace', path: 'title', value: `t${i}` }),
          }),
        ),
      );
      const took = Date.now() - started;
      // The optimistic writers win one at a time (200); those that lost wait for the lock (503).
      expect(new Set(statuses(rs))).toEqual(new Set([200, 503]));
      for (const r of rs.filter((x) => x.status === 503)) expectScimError(r, 503);
      // Queued one after another without a bound, they took a timeout each (about 15 s).
      expect(took).toBeLessThan(6000);
    } finally {
      await c.query('ROLLBACK');
      c.release();
      await holder.end();
      await t.close();
    }
  }, 60_000);

  it('concurrent PATCHes of one user with the same If-Match: one 200, the rest 412', async () => {
    const id = await newUser('ifmatch.user@contoso.com');
    const etag = (await req('GET', `/scim/v2/Users/${id}`)).headers.etag as string;
    const rs = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        req(
          'PATCH',
          `/scim/v2/Users/${id}`,
          patchOp({ op: 'replace', path: 'title', value: `Title ${i}` }),
          { 'if-match': etag },
        ),
      ),
    );
    expect(statuses(rs)).toEqual([200, ...Array<number>(N - 1).fill(412)]);
    for (const r of rs.filter((x) => x.status === 412)) expectScimError(r, 412);
    const winner = rs.find((r) => r.status === 200);
    const now = await req('GET', `/scim/v2/Users/${id}`);
    expect(now.body.title).toBe(winner?.body.title);
    expect(now.body.meta.version).not.toBe(etag);
  });

  it('concurrent PATCHes of one group with the same If-Match: one 204, the rest 412', async () => {
    const users = await Promise.all(
      Array.from({ length: N }, (_, i) => newUser(`ifm.member${i}@contoso.com`)),
    );
    const g = await newGroup('If-Match group');
    const etag = (await req('GET', `/scim/v2/Groups/${g}`)).headers.etag as string;
    const rs = await Promise.all(
      users.map((value) =>
        req(
          'PATCH',
          `/scim/v2/Groups/${g}`,
          patchOp({ op: 'add', path: 'members', value: [{ value }] }),
          {
            'if-match': etag,
          },
        ),
      ),
    );
    expect(statuses(rs)).toEqual([204, ...Array<number>(N - 1).fill(412)]);
    expect((await memberIds(g)).length).toBe(1);
  });

  it('concurrent PUT and PATCH of one user: both apply in some order, no 500', async () => {
    const id = await newUser('put.patch@contoso.com');
    for (let round = 0; round < 5; round++) {
      const rs = await Promise.all([
        req('PUT', `/scim/v2/Users/${id}`, {
          schemas: [USER],
          userName: 'put.patch@contoso.com',
          displayName: `Put ${round}`,
          title: `Put title ${round}`,
        }),
        req(
          'PATCH',
          `/scim/v2/Users/${id}`,
          patchOp({ op: 'replace', path: 'nickName', value: `Nick ${round}` }),
        ),
        req(
          'PATCH',
          `/scim/v2/Users/${id}`,
          patchOp({ op: 'replace', path: 'displayName', value: `Patched ${round}` }),
        ),
      ]);
      expect(statuses(rs)).toEqual([200, 200, 200]);
      const now = (await req('GET', `/scim/v2/Users/${id}`)).body;
      // The PUT's document is the base; a PATCH that ran after it kept its change.
      expect(now.userName).toBe('put.patch@contoso.com');
      expect([`Put ${round}`, `Patched ${round}`]).toContain(now.displayName);
    }
  });

  it('DELETE of a user racing PATCHes that add it to groups: no 500, no orphan membership', async () => {
    for (let round = 0; round < 6; round++) {
      const victim = await newUser(`victim${round}@contoso.com`);
      const other = await newUser(`bystander${round}@contoso.com`);
      const groups = await Promise.all(
        Array.from({ length: 4 }, (_, i) =>
          newGroup(`Victim groups ${round}-${i}`, i % 2 ? [victim] : []),
        ),
      );
      const rs = await Promise.all([
        ...groups.map((g) =>
          req(
            'PATCH',
            `/scim/v2/Groups/${g}`,
            patchOp({ op: 'add', path: 'members', value: [{ value: other }, { value: victim }] }),
          ),
        ),
        req('DELETE', `/scim/v2/Users/${victim}`),
        ...groups.map((g) =>
          req(
            'PATCH',
            `/scim/v2/Groups/${g}`,
            patchOp({ op: 'replace', path: 'displayName', value: `Renamed ${round}-${g}` }),
          ),
        ),
      ]);
      noServerErrors(rs);
      const del = rs[groups.length];
      expect(del?.status).toBe(204);
      // An add that lost the race names a user that is gone: 400 invalidValue, nothing half-written.
      for (const r of rs.slice(0, groups.length))
        if (r.status !== 204) expectScimError(r, 400, 'invalidValue');
      expect((await req('GET', `/scim/v2/Users/${victim}`)).status).toBe(404);
      for (const g of groups) expect(await memberIds(g)).not.toContain(victim);
      const bystander = (await req('GET', `/scim/v2/Users/${other}`)).body;
      // The bystander is in exactly the groups whose add succeeded.
      const added = groups.filter((_, i) => rs[i]?.status === 204).sort();
      expect((bystander.groups ?? []).map((x: { value: string }) => x.value).sort()).toEqual(added);
    }
  });

  it('DELETE of a user that is a member of groups being patched and deleted: no 500', async () => {
    const members = await Promise.all(
      Array.from({ length: 8 }, (_, i) => newUser(`crowd${i}@contoso.com`)),
    );
    const groups = await Promise.all(
      Array.from({ length: 4 }, (_, i) => newGroup(`Crowd ${i}`, members)),
    );
    const rs = await Promise.all([
      ...members.map((m) => req('DELETE', `/scim/v2/Users/${m}`)),
      ...groups.map((g, i) =>
        i === 0
          ? req('DELETE', `/scim/v2/Groups/${g}`)
          : req(
              'PATCH',
              `/scim/v2/Groups/${g}`,
              patchOp(
                { op: 'replace', path: 'displayName', value: `Crowd renamed ${i}` },
                { op: 'remove', path: `members[value eq "${members[i]}"]` },
              ),
            ),
      ),
    ]);
    noServerErrors(rs);
    for (const r of rs.slice(0, members.length)) expect(r.status).toBe(204);
    for (const g of groups.slice(1)) expect(await memberIds(g)).toEqual([]);
  });

  it('DELETE of a group racing PATCHes of it: 204 and then 404, never a 500', async () => {
    const users = await Promise.all(
      Array.from({ length: 4 }, (_, i) => newUser(`gdel${i}@contoso.com`)),
    );
    const g = await newGroup('Doomed group', users.slice(0, 2));
    const rs = await Promise.all([
      req(
        'PATCH',
        `/scim/v2/Groups/${g}`,
        patchOp({ op: 'add', path: 'members', value: [{ value: users[2] }] }),
      ),
      req('DELETE', `/scim/v2/Groups/${g}`),
      req(
        'PATCH',
        `/scim/v2/Groups/${g}`,
        patchOp({ op: 'add', path: 'members', value: [{ value: users[3] }] }),
      ),
      req('DELETE', `/scim/v2/Groups/${g}`),
    ]);
    noServerErrors(rs);
    expect(
      rs.filter((r) => r.status === 204 && r === rs[1]).length +
        rs.filter((r) => r.status === 204 && r === rs[3]).length,
    ).toBe(1);
    for (const r of rs.filter((x) => x.status === 404)) expectScimError(r, 404);
    for (const u of users)
      expect((await req('GET', `/scim/v2/Users/${u}`)).body.groups ?? []).toEqual([]);
  });

  it('a write chosen as a deadlock victim is retried, not answered 500', async () => {
    // Another writer (a replica, an operator's session) locks the user, then the group: the
    // reverse of the service's order. PostgreSQL breaks the cycle by rolling back the
    // transaction that waited first, the service's; its retry then succeeds.
    const u = await newUser('deadlock.victim@contoso.com');
    const g = await newGroup('Deadlock group');
    const db = new Pool({ connectionString: s.databaseUrl, max: 2 });
    const other = await db.connect();
    try {
      await other.query('BEGIN');
      // This session must not be the one that detects the cycle (it starts waiting second).
      await other.query("SET LOCAL deadlock_timeout = '20s'");
      await other.query('SELECT 1 FROM scim_users WHERE id = $1 FOR UPDATE', [u]);
      const patched = req(
        'PATCH',
        `/scim/v2/Groups/${g}`,
        patchOp({ op: 'add', path: 'members', value: [{ value: u }] }),
      );
      // The service holds the group and waits for the user.
      for (let i = 0; ; i++) {
        const { rows } = await db.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'WITH found AS%'",
        );
        if (rows[0]?.n) break;
        if (i > 200) throw new Error('the PATCH never waited for the user lock');
        await new Promise((r) => setTimeout(r, 25));
      }
      // Closing the cycle: once the service is rolled back this lock is granted.
      await other.query('SELECT 1 FROM scim_groups WHERE id = $1 FOR UPDATE', [g]);
      await other.query('COMMIT');
      const r = await patched;
      expect(r.status).toBe(204);
      expect(await memberIds(g)).toEqual([u]);
    } finally {
      await other.query('ROLLBACK').catch(() => undefined);
      other.release();
      await db.end();
    }
  });

  it('a member add whose user is deleted while it waits names the id as unknown (400), never 500', async () => {
    // Another replica deletes the user after the PATCH saw it and before its insert could commit.
    const u = await newUser('deleted.meanwhile@contoso.com');
    const g = await newGroup('Deleted meanwhile');
    const db = new Pool({ connectionString: s.databaseUrl, max: 2 });
    const other = await db.connect();
    try {
      await other.query('BEGIN');
      await other.query('DELETE FROM scim_users WHERE id = $1', [u]);
      const patched = req(
        'PATCH',
        `/scim/v2/Groups/${g}`,
        patchOp({ op: 'add', path: 'members', value: [{ value: u }] }),
      );
      for (let i = 0; ; i++) {
        const { rows } = await db.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'WITH found AS%'",
        );
        if (rows[0]?.n) break;
        if (i > 200) throw new Error('the PATCH never waited for the deleted user');
        await new Promise((r) => setTimeout(r, 25));
      }
      await other.query('COMMIT');
      const r = await patched;
      expectScimError(r, 400, 'invalidValue');
      expect(r.body.detail).toBe(`Unknown member id(s): ${u}`);
      expect(await memberIds(g)).toEqual([]);
    } finally {
      await other.query('ROLLBACK').catch(() => undefined);
      other.release();
      await db.end();
    }
  });
});
