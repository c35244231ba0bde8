import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import {
  startNats,
  startPostgres,
  TcpHop,
  type TestNatsServer,
  type TestPostgres,
} from '@idp/testing';
import { register } from 'prom-client';
import { ProvisioningLogRepository } from '../../src/provisioning-log/provisioning-log.repository';
import {
  BACKLOG_MAX_ROWS,
  type LogEntry,
} from '../../src/provisioning-log/provisioning-log.service';
import { expectScimError, startScimWithAdmin, type ScimAdminApp } from '../support/scim-app';

// PostgreSQL refused for a while: the rows of the requests answered 503 meanwhile stay buffered
// and are written once it answers again, in order, once each, with their original times; beyond
// the backlog's cap the oldest are dropped and counted.
interface Row {
  id: string;
  resourceId: string | null;
  status: number;
  at: string;
}

describe('scim: provisioning log across a database outage', () => {
  let pg: TestPostgres;
  let nats: TestNatsServer;
  let hop: TcpHop;
  let app: ScimAdminApp;
  let token: string;

  beforeAll(async () => {
    [pg, nats] = await Promise.all([startPostgres(), startNats()]);
    hop = new TcpHop(pg.port);
    app = await startScimWithAdmin(
      { DATABASE_URL: await hop.route(await pg.createDatabase()) },
      { shared: { pg, nats } },
    );
    expect((await app.asAdmin('POST', '/admin/directories', { id: 'backlog' })).status).toBe(201);
    const issued = await app.asAdmin('POST', '/admin/directories/backlog/tokens', { name: 'idp' });
    expect(issued.status).toBe(201);
    token = issued.body.token as string;
    // Cached from here on (for a while: later lookups answer 503 too). The requests below name
    // the directory in the path, so their rows are the directory's either way.
    expect((await app.s.request('GET', '/scim/v2/Users', { token })).status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await hop?.close();
    await Promise.all([pg?.stop(), nats?.dispose()]);
  });
  // Rows of earlier requests written first (reading the log flushes): the backlog is the outage's.
  beforeEach(async () => {
    expect((await app.asAdmin('GET', '/admin/directories/backlog/provisioning-log')).status).toBe(
      200,
    );
  });
  afterEach(() => jest.restoreAllMocks());

  const dropped = async () =>
    (await register.getSingleMetric('scim_provisioning_log_dropped_total')!.get()).values[0]
      ?.value ?? 0;

  /** The directory's rows, oldest first, once the database answers again (pages of the log API). */
  async function rowsOnceBack(): Promise<Row[]> {
    const deadline = Date.now() + 15_000;
    const rows: Row[] = [];
    let before = '';
    for (;;) {
      const r = await app.asAdmin(
        'GET',
        `/admin/directories/backlog/provisioning-log?limit=1000${before && `&before=${before}`}`,
      );
      if (r.status !== 200) {
        expect(Date.now()).toBeLessThan(deadline);
        await new Promise((res) => setTimeout(res, 200));
        continue;
      }
      rows.push(...(r.body.items as Row[]));
      if (!r.body.next) return rows.reverse();
      before = r.body.next as string;
    }
  }

  it('keeps the rows of the 503 requests and writes them once the database is back', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const before = await dropped();
    const ids = Array.from({ length: 5 }, (): string => randomUUID());
    const sent: number[] = [];
    await hop.refuse();
    try {
      for (const id of ids) {
        sent.push(Date.now());
        expectScimError(await app.s.request('GET', `/backlog/scim/v2/Users/${id}`, { token }), 503);
      }
      // Several flushes fail meanwhile (the first after 200 ms, retried with backoff).
      await new Promise((r) => setTimeout(r, 1500));
    } finally {
      await hop.accept();
    }
    const back = Date.now();
    const rows = (await rowsOnceBack()).filter((r) => r.resourceId && ids.includes(r.resourceId));
    expect(rows.map((r) => [r.resourceId, r.status])).toEqual(ids.map((id) => [id, 503]));
    // Their own times (each before the next request was sent), not the time of the write.
    rows.forEach((r, i) => {
      if (i + 1 < sent.length) expect(Date.parse(r.at)).toBeLessThanOrEqual(sent[i + 1]!);
    });
    expect(Date.parse(rows.at(-1)!.at)).toBeLessThan(back);
    // Later flushes (and reads) write nothing twice.
    await app.asAdmin('GET', '/admin/directories/backlog/provisioning-log');
    const again = (await rowsOnceBack()).filter((r) => r.resourceId && ids.includes(r.resourceId));
    expect(again).toEqual(rows);
    const failedFlushes = warn.mock.calls.filter((c) =>
      /could not write provisioning log rows/.test(String(c[0])),
    );
    expect(failedFlushes).toHaveLength(1);
    expect(await dropped()).toBe(before);
  }, 60_000);

  it('beyond the cap: the oldest rows are dropped and counted', async () => {
    const before = await dropped();
    const extra = 25;
    const total = BACKLOG_MAX_ROWS + extra;
    const ids = Array.from({ length: total }, (): string => randomUUID());
    await hop.refuse();
    try {
      // Groups of concurrent requests, one group after another.
      for (let i = 0; i < total; i += 25) {
        await Promise.all(
          ids.slice(i, i + 25).map(async (id, j) => {
            await new Promise((r) => setTimeout(r, j));
            const r = await app.s.request('GET', `/backlog/scim/v2/Users/${id}`, { token });
            expect(r.status).toBe(503);
          }),
        );
      }
    } finally {
      await hop.accept();
    }
    const wanted = new Set(ids);
    const rows = (await rowsOnceBack()).filter((r) => r.resourceId && wanted.has(r.resourceId));
    expect(await dropped()).toBe(before + extra);
    expect(rows).toHaveLength(BACKLOG_MAX_ROWS);
    expect(new Set(rows.map((r) => r.resourceId)).size).toBe(BACKLOG_MAX_ROWS);
    // The newest kept: the last requests are there, the first are not.
    const kept = new Set(rows.map((r) => r.resourceId));
    expect(kept.has(ids.at(-1)!)).toBe(true);
    expect(kept.has(ids[0]!)).toBe(false);
    // Written in their order: each group of concurrent requests after the group before it.
    const group = new Map(ids.map((id, i) => [id, Math.floor(i / 25)]));
    const groups = rows.map((r) => group.get(r.resourceId!)!);
    expect(groups).toEqual([...groups].sort((a, b) => a - b));
  }, 180_000);

  // A flush whose reply was lost after its COMMIT (a timeout, a cut connection) fails although its
  // rows are stored; the retry of the same batch must not store them again.
  it('a retried batch that had committed is not written twice', async () => {
    const repo = app.s.app.get(ProvisioningLogRepository);
    const at = Date.now();
    const ids = Array.from({ length: 3 }, (): string => randomUUID());
    const batch: LogEntry[] = ids.map((id, i) => ({
      directoryId: 'backlog',
      at: new Date(at + i),
      requestId: `retried-${i}`,
      method: 'DELETE',
      operation: 'delete',
      resourceType: 'User',
      resourceId: id,
      outcome: 'success',
      status: 204,
      durationMs: 1,
      scimType: null,
    }));
    await repo.insertMany(batch.slice(0, 2)); // the attempt that committed unseen
    await repo.insertMany(batch, { skipWritten: true }); // its retry, with one row more
    const rows = (await rowsOnceBack()).filter((r) => r.resourceId && ids.includes(r.resourceId));
    expect(rows.map((r) => [r.resourceId, Date.parse(r.at)])).toEqual(
      ids.map((id, i) => [id, at + i]),
    );
  });
});
