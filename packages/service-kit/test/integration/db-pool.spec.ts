import { Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client, type Pool } from 'pg';
import {
  startNats,
  startPostgres,
  TcpHop,
  type TestNatsServer,
  type TestPostgres,
} from '@idp/testing';
import { createApp } from '../../src/bootstrap';
import { isDatabaseUnavailable, PG_POOL } from '../../src/db/pool';
import { ServiceKitModule } from '../../src/service-kit.module';

// The pool of ServiceKitModule against a PostgreSQL that restarts or stalls, seen through the
// service's own /readyz: the process must survive, and the pool must come back when the
// database does.

describe('database pool of ServiceKitModule', () => {
  let pg: TestPostgres;
  let nats: TestNatsServer;
  let dbUrl: string;
  let proxy: TcpHop;
  let app: NestFastifyApplication;
  let pool: Pool;

  beforeAll(async () => {
    [pg, nats] = await Promise.all([startPostgres(), startNats()]);
    dbUrl = await pg.createDatabase();
    proxy = new TcpHop(pg.port);
    const proxied = await proxy.route(dbUrl);
    @Module({
      imports: [
        ServiceKitModule.forRoot({
          service: 'pool-test',
          config: { LOG_LEVEL: 'silent', NATS_URL: nats.url, DATABASE_URL: proxied },
          databaseConnectTimeoutMs: 1000,
        }),
      ],
    })
    class PoolTestModule {}
    app = await createApp(PoolTestModule, { service: 'pool-test', logLevel: 'silent' });
    await app.init();
    pool = app.get<Pool>(PG_POOL);
  });
  afterAll(async () => {
    await app?.close();
    await proxy?.close();
    await Promise.all([pg?.stop(), nats?.dispose()]);
  });

  const readyz = async () => {
    const r = await app.getHttpAdapter().getInstance().inject({ method: 'GET', url: '/readyz' });
    return {
      status: r.statusCode,
      database: (r.json() as { checks: { database?: string } }).checks.database,
    };
  };
  const until = async (what: () => Promise<boolean> | boolean, ms: number) => {
    const deadline = Date.now() + ms;
    while (!(await what())) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  it('survives PostgreSQL ending its idle connections (restart, failover, pg_terminate_backend)', async () => {
    await Promise.all([pool.query('SELECT 1'), pool.query('SELECT 1')]);
    expect(pool.idleCount).toBeGreaterThan(0);
    const admin = new Client({ connectionString: dbUrl });
    await admin.connect();
    try {
      const { rowCount } = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
      );
      expect(rowCount).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
    // The pool drops the dead clients (an 'error' event each, which used to end the process)...
    await until(() => pool.totalCount === 0, 5000);
    // ...and serves from new connections.
    expect(await readyz()).toEqual({ status: 200, database: 'ok' });
  });

  it('survives PostgreSQL ending a connection a caller holds between two statements (the outbox relay, a transaction)', async () => {
    const held = await pool.connect();
    let released = false;
    try {
      const { rows } = await held.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const admin = new Client({ connectionString: dbUrl });
      await admin.connect();
      try {
        await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      } finally {
        await admin.end();
      }
      // The lost connection is an 'error' event on the checked-out client (no statement is
      // running): unheard, it ended the process. The next statement fails as unavailable.
      await new Promise((r) => setTimeout(r, 300));
      const failed = await held.query('SELECT 1').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isDatabaseUnavailable(failed)).toBe(true);
      held.release(failed as Error);
      released = true;
    } finally {
      if (!released) held.release();
    }
    expect(await readyz()).toEqual({ status: 200, database: 'ok' });
    expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('a query whose session PostgreSQL ends, and a role out of connections, fail as "database unavailable"', async () => {
    const admin = new Client({ connectionString: dbUrl });
    await admin.connect();
    try {
      const running = pool.query('SELECT pg_sleep(5) AS terminated_here');
      await until(async () => {
        const r = await admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%terminated_here%' AND pid <> pg_backend_pid()`,
        );
        return (r.rowCount ?? 0) > 0;
      }, 5000);
      const ended = await running.then(
        () => 'no error',
        (e: unknown) => e,
      );
      expect(ended).toMatchObject({ code: '57P01' }); // admin_shutdown, as in a restart
      expect(isDatabaseUnavailable(ended)).toBe(true);

      await admin.query('CREATE ROLE one_connection LOGIN CONNECTION LIMIT 1');
      const url = new URL(dbUrl);
      url.username = 'one_connection';
      const holder = new Client({ connectionString: url.toString() });
      await holder.connect();
      const second = new Client({ connectionString: url.toString() });
      const refused = await second.connect().then(
        () => 'no error',
        (e: unknown) => e,
      );
      await Promise.all([holder.end(), second.end().catch(() => undefined)]);
      expect(refused).toMatchObject({ code: '53300' }); // too_many_connections
      expect(isDatabaseUnavailable(refused)).toBe(true);
    } finally {
      await admin.end();
    }
  });

  it('stays ready while slow requests hold every pooled connection (load is not an outage)', async () => {
    const slow = Array.from({ length: 10 }, () => pool.query('SELECT pg_sleep(2)'));
    try {
      await until(() => pool.totalCount === 10 && pool.idleCount === 0, 5000);
      const started = Date.now();
      expect(await readyz()).toEqual({ status: 200, database: 'ok' });
      expect(Date.now() - started).toBeLessThan(1500);
    } finally {
      await Promise.all(slow);
    }
  });

  it('fails queries within the connect timeout while the database stalls, and is ready again once it answers', async () => {
    proxy.stall();
    await until(() => pool.totalCount === 0, 5000);
    try {
      // More queries than the pool has connections: each fails within its deadline, none waits
      // for ever holding a connection that never finishes opening.
      const started = Date.now();
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, () => pool.query('SELECT 1 AS one')),
      );
      const elapsed = Date.now() - started;
      expect(results.every((r) => r.status === 'rejected')).toBe(true);
      // Every one of them reads as "database unavailable" (a 503, not a 500, in the services).
      expect(
        results.filter((r) => r.status === 'rejected' && !isDatabaseUnavailable(r.reason)),
      ).toEqual([]);
      expect(elapsed).toBeLessThan(6000);
      expect((await readyz()).status).toBe(503);
    } finally {
      proxy.stalled = false;
    }
    // The connections opened during the stall stay unanswered (as they would): the pool must
    // not be stuck with them.
    await until(async () => (await readyz()).status === 200, 10_000);
    expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  }, 30_000);
});
