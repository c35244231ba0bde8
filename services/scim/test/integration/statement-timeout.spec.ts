import { Pool } from 'pg';
import { startScim, USER, type ScimTestApp } from '../support/scim-app';

// One slow statement must not hold the pool for every directory (DATABASE_STATEMENT_TIMEOUT_MS):
// the database cancels it and the client gets a SCIM 503, never a 500 or a hang.
describe('scim: database statement timeout', () => {
  let s: ScimTestApp;
  let token: string;
  let db: Pool;
  beforeAll(async () => {
    s = await startScim({ DATABASE_STATEMENT_TIMEOUT_MS: '300' });
    token = await s.directory('slow');
    db = new Pool({ connectionString: s.databaseUrl, max: 1 });
  });
  afterAll(async () => {
    await db.end();
    await s.close();
  });

  it('answers 503 in the SCIM error schema when a query waits past the timeout, then serves again', async () => {
    const created = await s.request('POST', '/scim/v2/Users', {
      token,
      body: { schemas: [USER], userName: 'slow-user' },
    });
    expect(created.status).toBe(201);
    const blocker = await db.connect();
    try {
      // Another session holds the table: the service's list waits on the lock until cancelled.
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE scim_users IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      const r = await s.request('GET', '/scim/v2/Users?filter=userName%20eq%20%22slow-user%22', {
        token,
      });
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
        status: '503',
      });
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }
    const after = await s.request('GET', `/scim/v2/Users/${created.body.id}`, { token });
    expect(after.status).toBe(200);
  });
});
