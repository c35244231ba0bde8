import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { split, type ErrorBody, type PolicyBody } from '../support/fixtures';
import { Harness } from '../support/harness';
import { TcpHop } from '@idp/testing';
import { MFA_FLOW } from '../support/tokens';

// PostgreSQL down, stalled or cut off under a transaction: the API answers 503
// temporarily_unavailable with Retry-After (never a 500, never a wait past the 10 s connect
// deadline), writes nothing half-way, and serves again once the database is back.
const CONNECT_DEADLINE_MS = 10_000;

describe('policy-api: database unavailable', () => {
  let h: Harness;
  let hop: TcpHop;
  let warn: jest.SpyInstance;
  let error: jest.SpyInstance;

  beforeAll(async () => {
    h = await Harness.start(
      {},
      {
        restartablePostgres: true,
        serviceDatabaseUrl: (url) => {
          hop = new TcpHop(Number(new URL(url).port));
          return hop.route(url);
        },
      },
    );
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
    await hop?.close();
  });
  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn');
    error = jest.spyOn(Logger.prototype, 'error');
  });
  afterEach(() => jest.restoreAllMocks());

  /** A holder with a policy: tokens to read and to write, and the policy's first ETag. */
  async function holder() {
    const oid = randomUUID();
    const read = await h.issuer.userToken({ oid });
    const write = await h.issuer.userToken({ oid, flow: MFA_FLOW });
    const r = await h.call<PolicyBody>('GET', '/policies/me', { token: read });
    expect(r.status).toBe(201);
    return { oid, read, write, etag: r.headers.get('etag') ?? '', number: r.body.policyNumber };
  }
  const put = (token: string, etag: string, names: string[]) =>
    h.call<PolicyBody & ErrorBody>('PUT', '/policies/me/beneficiaries', {
      token,
      body: { beneficiaries: split(names) },
      headers: { 'if-match': etag },
    });
  /** What is stored for the policy: its version and beneficiaries, its history and outbox rows. */
  async function stored(number: string) {
    const [p, history, outbox] = await Promise.all([
      h.db.query<{ version: number; beneficiaries: unknown[] }>(
        'SELECT version, beneficiaries FROM policies WHERE number = $1',
        [number],
      ),
      h.db.query(
        'SELECT 1 FROM policy_history ph JOIN policies p ON p.id = ph.policy_id WHERE p.number = $1',
        [number],
      ),
      h.db.query(`SELECT 1 FROM outbox WHERE payload->>'policyNumber' = $1`, [number]),
    ]);
    return {
      version: p.rows[0]?.version,
      beneficiaries: p.rows[0]?.beneficiaries,
      history: history.rowCount,
      outbox: outbox.rowCount,
    };
  }
  const timed = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
    const started = Date.now();
    const r = await f();
    return [r, Date.now() - started];
  };
  const expectUnavailable = (r: { status: number; body: ErrorBody; headers: Headers }) => {
    expect([r.status, r.body.error, r.headers.get('retry-after')]).toEqual([
      503,
      'temporarily_unavailable',
      '5',
    ]);
  };
  /** Logged as one warning per refused request, naming no host, port or URL; never as an error. */
  const expectLoggedAsWarnings = () => {
    const lines = warn.mock.calls.map((c: unknown[]) => String(c[0]));
    const db = lines.filter((l) => l.startsWith('database unavailable'));
    expect(db.length).toBeGreaterThan(0);
    for (const l of db) expect(l).not.toMatch(/postgres(ql)?:\/\/|127\.0\.0\.1|:\d{4,5}\b/);
    expect(error).not.toHaveBeenCalled();
  };
  const until = async (what: () => Promise<boolean>, ms: number) => {
    const deadline = Date.now() + ms;
    while (!(await what())) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  const servesAgain = (token: string) =>
    until(async () => (await h.call('GET', '/policies/me', { token })).status === 200, 20_000);

  it('PostgreSQL stopped: reads, first sign-ins and changes answer 503 at once; all work again once it is back', async () => {
    const a = await holder();
    const newcomer = await h.issuer.userToken({ oid: randomUUID() });
    await h.stopPostgres();
    try {
      // Through a hop whose upstream is gone (a proxy in front of the stopped server)...
      const [viaProxy, proxyMs] = await timed(() =>
        h.call<ErrorBody>('GET', '/policies/me', { token: a.read }),
      );
      expectUnavailable(viaProxy);
      expect(proxyMs).toBeLessThan(CONNECT_DEADLINE_MS);
      // ...and with the port closed (connection refused).
      await hop.refuse();
      const [read, readMs] = await timed(() =>
        h.call<ErrorBody>('GET', '/policies/me', { token: a.read }),
      );
      expectUnavailable(read);
      expect(readMs).toBeLessThan(CONNECT_DEADLINE_MS);
      expectUnavailable(await put(a.write, a.etag, ['Someone']));
      // A first sign-in creates the policy: refused the same way.
      expectUnavailable(await h.call<ErrorBody>('GET', '/policies/me', { token: newcomer }));
      expectLoggedAsWarnings();
    } finally {
      await h.startPostgres();
      await hop.accept();
    }
    await servesAgain(a.read);
    expect(await stored(a.number)).toEqual({
      version: 1,
      beneficiaries: [],
      history: 0,
      outbox: 0,
    });
    const changed = await put(a.write, a.etag, ['Someone']);
    expect(changed.status).toBe(200);
    expect(await stored(a.number)).toMatchObject({ version: 2, history: 1, outbox: 1 });
    expect((await h.call('GET', '/policies/me', { token: newcomer })).status).toBe(201);
  }, 60_000);

  it('PostgreSQL stalled (connections accepted, never answered): 503 within the connect deadline, then served again', async () => {
    const a = await holder();
    hop.stalled = true;
    hop.cut(); // the pooled connections die with the link
    try {
      const [[read, change], ms] = await timed(() =>
        Promise.all([
          h.call<ErrorBody>('GET', '/policies/me', { token: a.read }),
          put(a.write, a.etag, ['Someone']),
        ]),
      );
      expectUnavailable(read);
      expectUnavailable(change);
      expect(ms).toBeLessThan(CONNECT_DEADLINE_MS + 3000);
      expectLoggedAsWarnings();
    } finally {
      hop.stalled = false;
    }
    await servesAgain(a.read);
    expect((await put(a.write, a.etag, ['Someone'])).status).toBe(200);
  }, 60_000);

  it('connection lost inside a change: 503, and nothing of the change is stored', async () => {
    const a = await holder();
    // The change updates the policy row, then waits to insert its history row...
    const locker = await h.db.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE policy_history IN EXCLUSIVE MODE');
    let pending: ReturnType<typeof put> | undefined;
    try {
      pending = put(a.write, a.etag, ['Someone']);
      await until(async () => {
        const r = await h.db.query(
          `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%policy_history%'`,
        );
        return r.rowCount === 1;
      }, 10_000);
      // ...when the link to the database drops.
      hop.cut();
      expectUnavailable(await pending);
      expectLoggedAsWarnings();
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
      await pending?.catch(() => undefined);
    }
    // The server ends the orphaned session once it is no longer blocked: its transaction is rolled back.
    await until(async () => {
      const r = await h.db.query(
        `SELECT 1 FROM pg_stat_activity WHERE query ILIKE '%policy_history%' AND pid <> pg_backend_pid()`,
      );
      return r.rowCount === 0;
    }, 10_000);
    expect(await stored(a.number)).toEqual({
      version: 1,
      beneficiaries: [],
      history: 0,
      outbox: 0,
    });
    await servesAgain(a.read);
    expect((await put(a.write, a.etag, ['Someone'])).status).toBe(200);
    expect(await stored(a.number)).toMatchObject({ version: 2, history: 1, outbox: 1 });
  }, 60_000);
});
