import { Client } from 'pg';
import { LOG_ORDER_LOCK } from '../../src/provisioning-log/provisioning-log.repository';
import { TokenInvalidationListener } from '../../src/tokens/token-invalidation';
import { expectScimError, startScim, USER } from '../support/scim-app';

// Closing must be prompt and bounded whatever the database is doing: a request waiting on a lock,
// the provisioning log's last flush queued behind another replica's batch and the LISTEN
// connection open. Each of those waited up to DATABASE_STATEMENT_TIMEOUT_MS (10 s by default,
// one after the other) and a test's afterAll closing three apps once outlasted its 30 s. A request
// that finishes while closing keeps its log row and does not hold the close on its keep-alive
// connection (72 s).
describe('scim shutdown', () => {
  it('closes within its grace while a request and the log flush wait on locks, rolling the request back', async () => {
    // Statements would wait a minute; half of SHUTDOWN_TIMEOUT_MS is the grace before cancelling.
    const s = await startScim({
      DATABASE_STATEMENT_TIMEOUT_MS: '60000',
      SHUTDOWN_TIMEOUT_MS: '2000',
    });
    const token = await s.directory('bye');
    const other = new Client({ connectionString: s.databaseUrl });
    await other.connect();
    try {
      // Another session (another replica) holds the users table and the log's order lock.
      await other.query('BEGIN');
      await other.query('LOCK TABLE scim_users IN ACCESS EXCLUSIVE MODE');
      await other.query('SELECT pg_advisory_xact_lock($1)', [LOG_ORDER_LOCK.toString()]);
      const pending = s.request('POST', '/scim/v2/Users', {
        token,
        body: { schemas: [USER], userName: 'in-flight@contoso.example' },
      });
      // Requests answered before the close have log rows to flush; the LISTEN connection is up.
      expect((await s.request('GET', '/scim/v2/ServiceProviderConfig', { token })).status).toBe(
        200,
      );
      for (let i = 0; !s.app.get(TokenInvalidationListener).listening && i < 100; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(s.app.get(TokenInvalidationListener).listening).toBe(true);
      await new Promise((r) => setTimeout(r, 300));

      const started = performance.now();
      await s.app.close();
      const took = performance.now() - started;
      // 1 s of grace, then the cancel; far below the statement timeout.
      expect(took).toBeGreaterThanOrEqual(900);
      expect(took).toBeLessThan(8000);
      // The cancelled request is a retry-later answer, not a 500.
      expectScimError(await pending, 503);
    } finally {
      await other.query('ROLLBACK');
    }
    // Nothing of the cancelled request was stored.
    const left = await other.query(`SELECT count(*)::int AS n FROM scim_users`);
    expect(left.rows[0].n).toBe(0);
    await other.end();
    await Promise.all([s.pg.stop(), s.nats.dispose()]);
  });

  it('records the requests that finish while the service closes', async () => {
    const s = await startScim({ SHUTDOWN_TIMEOUT_MS: '6000' });
    const token = await s.directory('late');
    // Listening, as in production: closing waits for the requests in flight before the shutdown hooks.
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    const base = await s.app.getUrl();
    const other = new Client({ connectionString: s.databaseUrl });
    await other.connect();
    await other.query('BEGIN');
    await other.query('LOCK TABLE scim_users IN ACCESS EXCLUSIVE MODE');
    const pending = fetch(`${base}/scim/v2/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify({ schemas: [USER], userName: 'late@contoso.example' }),
    });
    await new Promise((r) => setTimeout(r, 300));
    // The close starts (the log's flush at its start with it) while the POST waits; it then goes through.
    const closing = s.app.close();
    await new Promise((r) => setTimeout(r, 300));
    await other.query('ROLLBACK');
    const created = await pending;
    await closing;
    expect(created.status).toBe(201);
    // Its provisioning-log row was written before the pool closed, not dropped.
    const rows = await other.query(
      `SELECT operation, status FROM provisioning_log WHERE directory_id = 'late' AND operation = 'create'`,
    );
    expect(rows.rows).toEqual([{ operation: 'create', status: 201 }]);
    await other.end();
    await Promise.all([s.pg.stop(), s.nats.dispose()]);
  });
});
