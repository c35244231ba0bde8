import { Client } from 'pg';
import {
  GROUP,
  USER,
  expectScimError,
  patchOp,
  startScimWithAdmin,
  type Reply,
  type ScimAdminApp,
} from '../support/scim-app';

// A force delete of a directory holds its row (FOR UPDATE) until it commits; SCIM writes of that
// directory that started meanwhile wait for it and then find the directory gone. They must answer
// as the directory's token now does (401 invalid_token), never 400 "a referenced resource no
// longer exists" (the client's fault) or 500, and store nothing.
describe('SCIM writes racing a forced directory delete', () => {
  let app: ScimAdminApp;
  beforeAll(async () => {
    app = await startScimWithAdmin();
  });
  afterAll(() => app.close());

  /** Waits until `n` other sessions wait for a lock. */
  async function lockWaiters(c: Client, n: number): Promise<void> {
    for (let i = 0; i < 200; i++) {
      // pg_stat_activity is a snapshot taken once per transaction unless cleared.
      await c.query('SELECT pg_stat_clear_snapshot()');
      const { rows } = await c.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
      );
      if (Number(rows[0]?.n) >= n) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`fewer than ${n} sessions waited for a lock`);
  }

  /**
   * Runs `requests` while a forced delete of `dir` through the admin API has deleted the directory
   * but not committed (it is held before its audit record, by a lock on that table), and lets it
   * commit once they all wait for it.
   */
  async function raceDelete(
    dir: string,
    waiters: number,
    requests: () => Promise<Reply>[],
  ): Promise<Reply[]> {
    const c = new Client({ connectionString: app.s.databaseUrl });
    await c.connect();
    try {
      await c.query('BEGIN');
      await c.query('LOCK TABLE admin_audit IN SHARE MODE');
      const deletion = app.asAdmin('DELETE', `/admin/directories/${dir}?force=true`);
      await lockWaiters(c, 1);
      const pending = requests();
      await lockWaiters(c, 1 + waiters);
      await c.query('COMMIT');
      expect((await deletion).status).toBe(200);
      return await Promise.all(pending);
    } finally {
      await c.end();
    }
  }

  async function directoryWithToken(id: string): Promise<string> {
    expect((await app.asAdmin('POST', '/admin/directories', { id })).status).toBe(201);
    const t = await app.asAdmin('POST', `/admin/directories/${id}/tokens`, { name: 'Entra' });
    expect(t.status).toBe(201);
    return t.body.token as string;
  }

  it('creates of users and groups waiting on the delete answer 401 invalid_token, as the token now does (not 400)', async () => {
    const token = await directoryWithToken('race-create');
    // Warm the token cache, as a syncing client's would be.
    expect((await app.s.request('GET', '/scim/v2/Users', { token })).status).toBe(200);
    const replies = await raceDelete('race-create', 2, () => [
      app.s.request('POST', '/scim/v2/Users', {
        token,
        body: { schemas: [USER], userName: 'late@race' },
      }),
      app.s.request('POST', '/scim/v2/Groups', {
        token,
        body: { schemas: [GROUP], displayName: 'Late' },
      }),
    ]);
    for (const r of replies) {
      expectScimError(r, 401);
      expect(r.headers['www-authenticate']).toMatch(/invalid_token/);
    }
    expect((await app.s.request('GET', '/scim/v2/Users', { token })).status).toBe(401);
  });

  it('updates, member adds and deletes waiting on the delete answer 404 (the resource went with it)', async () => {
    const token = await directoryWithToken('race-update');
    const u = await app.s.request('POST', '/scim/v2/Users', {
      token,
      body: { schemas: [USER], userName: 'kept@race' },
    });
    const u2 = await app.s.request('POST', '/scim/v2/Users', {
      token,
      body: { schemas: [USER], userName: 'other@race' },
    });
    const g = await app.s.request('POST', '/scim/v2/Groups', {
      token,
      body: { schemas: [GROUP], displayName: 'Team' },
    });
    expect([u.status, u2.status, g.status]).toEqual([201, 201, 201]);
    const replies = await raceDelete('race-update', 4, () => [
      app.s.request('PATCH', `/scim/v2/Users/${u.body.id}`, {
        token,
        body: patchOp({ op: 'replace', path: 'displayName', value: 'Late' }),
      }),
      app.s.request('PUT', `/scim/v2/Users/${u2.body.id}`, {
        token,
        body: { schemas: [USER], userName: 'other@race', displayName: 'Late' },
      }),
      app.s.request('PATCH', `/scim/v2/Groups/${g.body.id}`, {
        token,
        body: patchOp({ op: 'add', path: 'members', value: [{ value: u.body.id }] }),
      }),
      app.s.request('DELETE', `/scim/v2/Users/${u2.body.id}`, { token }),
    ]);
    for (const r of replies) expectScimError(r, 404);
  });

  it('a token creation, revocation or settings change waiting on the delete answers 404 and leaves nothing behind', async () => {
    await directoryWithToken('race-admin');
    const token = (await app.asAdmin('POST', '/admin/directories/race-admin/tokens', { name: 'b' }))
      .body as { id: string };
    const replies = await raceDelete('race-admin', 3, () => [
      app.asAdmin('POST', '/admin/directories/race-admin/tokens', { name: 'late' }),
      app.asAdmin('PUT', '/admin/directories/race-admin', { profile: 'aws' }),
      app.asAdmin('DELETE', `/admin/directories/race-admin/tokens/${token.id}`),
    ]);
    // Not a 200 showing the deleted token as active.
    expect(replies.map((r) => r.status)).toEqual([404, 404, 404]);
    for (const r of replies)
      expect(r.body).toEqual({ error: 'not_found', error_description: expect.any(String) });
    const audit = await app.asAdmin('GET', '/admin/audit?directoryId=race-admin&limit=1000');
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual([
      'directory.delete',
      'token.create',
      'token.create',
      'directory.create',
    ]);
  });

  it('a forced delete takes the rows in the service lock order (groups, then users): no deadlock with a member add', async () => {
    const token = await directoryWithToken('race-order');
    const user = await app.s.request('POST', '/scim/v2/Users', {
      token,
      body: { schemas: [USER], userName: 'member@race' },
    });
    const group = await app.s.request('POST', '/scim/v2/Groups', {
      token,
      body: { schemas: [GROUP], displayName: 'Ordered' },
    });
    const c = new Client({ connectionString: app.s.databaseUrl });
    await c.connect();
    try {
      // A member add as GroupsRepository runs it: the group row first, then the member's key.
      await c.query('BEGIN');
      await c.query('SELECT id FROM scim_groups WHERE id = $1 FOR UPDATE', [group.body.id]);
      const deletion = app.asAdmin('DELETE', '/admin/directories/race-order?force=true');
      await lockWaiters(c, 1);
      await c.query('INSERT INTO scim_memberships (group_id, user_id) VALUES ($1, $2)', [
        group.body.id,
        user.body.id,
      ]);
      await c.query('COMMIT');
      const r = await deletion;
      expect({ status: r.status, body: r.body }).toMatchObject({
        status: 200,
        body: { deleted: true, users: 1, groups: 1 },
      });
    } finally {
      await c.end();
    }
    expect((await app.asAdmin('GET', '/admin/directories/race-order')).status).toBe(404);
  });

  it('the scim.directory.deleted event is ordered after the event of a write that committed while the delete waited', async () => {
    const token = await directoryWithToken('race-event');
    const user = await app.s.request('POST', '/scim/v2/Users', {
      token,
      body: { schemas: [USER], userName: 'late@event' },
    });
    const group = await app.s.request('POST', '/scim/v2/Groups', {
      token,
      body: { schemas: [GROUP], displayName: 'Held' },
    });
    expect([user.status, group.status]).toEqual([201, 201]);
    const c = new Client({ connectionString: app.s.databaseUrl });
    await c.connect();
    try {
      // The delete began (its now()) and then waits for the group; the user is not locked yet, so
      // a PATCH that begins after the delete commits before it.
      await c.query('BEGIN');
      await c.query('SELECT id FROM scim_groups WHERE id = $1 FOR UPDATE', [group.body.id]);
      const deletion = app.asAdmin('DELETE', '/admin/directories/race-event?force=true');
      await lockWaiters(c, 1);
      const patched = await app.s.request('PATCH', `/scim/v2/Users/${user.body.id}`, {
        token,
        body: patchOp({ op: 'replace', path: 'title', value: 'Late' }),
      });
      expect(patched.status).toBe(200);
      await c.query('COMMIT');
      expect((await deletion).status).toBe(200);
      // The relay's order (created_at): the delete's event last, so a consumer that drops the
      // directory on it is not handed the PATCH's user afterwards.
      const { rows } = await c.query<{ subject: string }>(
        `SELECT subject FROM outbox WHERE payload->>'directoryId' = $1 ORDER BY created_at`,
        ['race-event'],
      );
      expect(rows.map((r) => r.subject)).toEqual([
        'scim.user.created.v1',
        'scim.group.created.v1',
        'scim.user.updated.v1',
        'scim.directory.deleted.v1',
      ]);
    } finally {
      await c.end();
    }
  });
});
