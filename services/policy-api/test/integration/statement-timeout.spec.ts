import { randomUUID } from 'node:crypto';
import type { ErrorBody } from '../support/fixtures';
import { Harness } from '../support/harness';

// One slow statement must not hold the pool for everyone (DATABASE_STATEMENT_TIMEOUT_MS): the
// database cancels it and the caller gets a 503 in the API's shape, never a 500 or a hang.
describe('policy-api: database statement timeout', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start({ DATABASE_STATEMENT_TIMEOUT_MS: '300' });
  }, 60000);
  afterAll(async () => {
    await h?.stop();
  });

  it('answers 503 temporarily_unavailable when a read waits past the timeout, then serves again', async () => {
    const token = await h.issuer.userToken({ oid: randomUUID() });
    expect([200, 201]).toContain((await h.call('GET', '/policies/me', { token })).status);
    // Another session holds the table: the service's read waits on the lock until cancelled.
    const blocker = await h.db.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE policies IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      const r = await h.call<ErrorBody>('GET', '/policies/me', { token });
      expect([r.status, r.body.error]).toEqual([503, 'temporarily_unavailable']);
      // Cancelled by the 300 ms statement timeout, not by the test's own timeout.
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }
    expect((await h.call('GET', '/policies/me', { token })).status).toBe(200);
  });
});
