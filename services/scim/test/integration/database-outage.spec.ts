import { Logger } from '@nestjs/common';
import {
  startNats,
  startPostgres,
  TcpHop,
  type TestNatsServer,
  type TestPostgres,
} from '@idp/testing';
import { Pool } from 'pg';
import {
  expectScimError,
  patchOp,
  startScimWithAdmin,
  USER,
  type Reply,
  type ScimAdminApp,
} from '../support/scim-app';

// PostgreSQL refused or stalled (a host that is down, a failover that hangs): SCIM and admin
// requests answer 503 with Retry-After in their own error shapes (never a 500, never a 401 for a
// token that could not be looked up, never past the pool's 10 s connect deadline), write nothing,
// and are served again once the database answers.
const CONNECT_DEADLINE_MS = 10_000;

describe('scim: database unavailable', () => {
  let pg: TestPostgres;
  let nats: TestNatsServer;
  let hop: TcpHop;
  let app: ScimAdminApp;
  let direct: Pool;
  let token: string;
  let userId: string;
  let warn: jest.SpyInstance;
  let error: jest.SpyInstance;

  beforeAll(async () => {
    [pg, nats] = await Promise.all([startPostgres(), startNats()]);
    const url = await pg.createDatabase();
    hop = new TcpHop(pg.port);
    app = await startScimWithAdmin(
      { DATABASE_URL: await hop.route(url) },
      { shared: { pg, nats } },
    );
    direct = new Pool({ connectionString: url });
    expect((await app.asAdmin('POST', '/admin/directories', { id: 'outage' })).status).toBe(201);
    const issued = await app.asAdmin('POST', '/admin/directories/outage/tokens', { name: 'idp' });
    expect(issued.status).toBe(201);
    token = issued.body.token as string;
    const created = await app.s.request('POST', '/scim/v2/Users', {
      token,
      body: { schemas: [USER], userName: 'kept@example.com', displayName: 'Kept' },
    });
    expect(created.status).toBe(201);
    userId = created.body.id as string;
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await direct?.end();
    await hop?.close();
    await Promise.all([pg?.stop(), nats?.dispose()]);
  });
  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn');
    error = jest.spyOn(Logger.prototype, 'error');
  });
  afterEach(() => jest.restoreAllMocks());

  const expectUnavailable = (r: Reply, shape: 'scim' | 'admin') => {
    if (shape === 'scim') expectScimError(r, 503);
    else
      expect({ status: r.status, body: r.body }).toEqual({
        status: 503,
        body: { error: 'temporarily_unavailable', error_description: expect.any(String) },
      });
    expect(r.headers['retry-after']).toBe('5');
  };

  /** Every request kind while the database is out: all 503, in time, logged as warnings only. */
  async function duringOutage(freshToken: string, userName: string) {
    const started = Date.now();
    const [list, fresh, create, patch, admin, exported] = await Promise.all([
      app.s.request('GET', '/scim/v2/Users', { token }),
      // Not in the token cache: its lookup needs the database (503, not 401 or 500).
      app.s.request('GET', '/scim/v2/Users', { token: freshToken }),
      app.s.request('POST', '/scim/v2/Users', {
        token,
        body: { schemas: [USER], userName },
      }),
      app.s.request('PATCH', `/scim/v2/Users/${userId}`, {
        token,
        body: patchOp({ op: 'replace', path: 'displayName', value: 'Changed' }),
      }),
      app.asAdmin('GET', '/admin/directories/outage'),
      app.asAdmin('GET', '/admin/directories/outage/provisioning-log/export'),
    ]);
    expect(Date.now() - started).toBeLessThan(CONNECT_DEADLINE_MS + 3000);
    for (const r of [list, fresh, create, patch]) expectUnavailable(r, 'scim');
    for (const r of [admin, exported]) expectUnavailable(r, 'admin');
    const logged = warn.mock.calls.map((c) => String(c[0]));
    expect(logged.filter((m) => /database unavailable \(.+\): answered 503/.test(m))).toHaveLength(
      4,
    );
    expect(
      logged.filter((m) => /database unavailable \(.+\): admin request answered 503/.test(m)),
    ).toHaveLength(2);
    // The reason only: no host, port or connection string.
    for (const m of logged) expect(m).not.toMatch(/127\.0\.0\.1|postgres(ql)?:\/\/|localhost/);
    expect(error).not.toHaveBeenCalled();
  }

  /** Once the database answers again: nothing of the refused writes was stored, and all works. */
  async function afterRecovery(userName: string) {
    const deadline = Date.now() + 15_000;
    while ((await app.s.request('GET', '/scim/v2/Users', { token })).status !== 200) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 200));
    }
    const users = await direct.query<{ user_name: string; display_name: string | null }>(
      `SELECT user_name, display_name FROM scim_users WHERE user_name IN ($1, $2) ORDER BY user_name`,
      ['kept@example.com', userName],
    );
    expect(users.rows).toEqual([{ user_name: 'kept@example.com', display_name: 'Kept' }]);
    const patched = await app.s.request('PATCH', `/scim/v2/Users/${userId}`, {
      token,
      body: patchOp({ op: 'replace', path: 'displayName', value: 'Changed' }),
    });
    expect(patched.status).toBe(200);
    const reverted = await app.s.request('PATCH', `/scim/v2/Users/${userId}`, {
      token,
      body: patchOp({ op: 'replace', path: 'displayName', value: 'Kept' }),
    });
    expect(reverted.status).toBe(200);
    expect((await app.asAdmin('GET', '/admin/directories/outage')).status).toBe(200);
    const again = await app.s.request('POST', '/scim/v2/Users', {
      token,
      body: { schemas: [USER], userName },
    });
    expect(again.status).toBe(201);
  }

  const freshToken = async () => {
    const r = await app.asAdmin('POST', '/admin/directories/outage/tokens', { name: 'spare' });
    expect(r.status).toBe(201);
    return r.body.token as string;
  };

  it('refused connections (database host down): 503 with Retry-After, then served again', async () => {
    const spare = await freshToken();
    await hop.refuse();
    try {
      await duringOutage(spare, 'refused@example.com');
    } finally {
      await hop.accept();
    }
    await afterRecovery('refused@example.com');
  }, 60_000);

  it('stalled connections (hung failover): 503 within the connect deadline, then served again', async () => {
    const spare = await freshToken();
    hop.stall();
    try {
      await duringOutage(spare, 'stalled@example.com');
    } finally {
      hop.stalled = false;
    }
    await afterRecovery('stalled@example.com');
  }, 60_000);
});
