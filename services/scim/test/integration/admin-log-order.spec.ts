import type { PoolClient } from 'pg';
import { PrismaService } from '../../src/db/prisma.service';
import { ProvisioningLogService } from '../../src/provisioning-log/provisioning-log.service';
import {
  startScim,
  startScimWithAdmin,
  type ScimAdminApp,
  type ScimTestApp,
} from '../support/scim-app';

// Provisioning-log ids follow commit order across replicas, so paging newest first by id never
// misses a batch that commits after a page was read: it is newer than everything already read.
describe('provisioning log paging across replicas', () => {
  let admin: ScimAdminApp;
  let slow: ScimTestApp;
  let fast: ScimTestApp;
  beforeAll(async () => {
    admin = await startScimWithAdmin();
    const same = { DATABASE_URL: admin.s.databaseUrl };
    const shared = { shared: { pg: admin.s.pg, nats: admin.s.nats } };
    [slow, fast] = await Promise.all([startScim(same, shared), startScim(same, shared)]);
    await admin.asAdmin('POST', '/admin/directories', { id: 'order' });
  });
  afterAll(async () => {
    await Promise.all([slow.close(), fast.close()]);
    await admin.close();
  });

  const entry = (requestId: string) => ({
    directoryId: 'order',
    at: new Date(),
    requestId,
    method: 'GET',
    operation: 'list',
    resourceType: 'User',
    resourceId: null,
    outcome: 'success' as const,
    status: 200,
    durationMs: 1,
    scimType: null,
  });
  const write = (app: ScimTestApp, requestId: string) => {
    const log = app.app.get(ProvisioningLogService);
    log.record(entry(requestId));
    return log.flush();
  };
  const page = async (q: string) =>
    (await admin.asAdmin('GET', `/admin/directories/order/provisioning-log?${q}`)).body as {
      items: { id: string; requestId: string }[];
      next?: string;
    };

  it('a batch whose commit is delayed is never below a cursor already handed out', async () => {
    await write(fast, 'old-1');
    await write(fast, 'old-2');

    // The slow replica's batch is stalled between its INSERT and its COMMIT.
    const pool = slow.app.get(PrismaService).pool;
    const connect = pool.connect.bind(pool) as () => Promise<PoolClient>;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let stalled!: () => void;
    const atCommit = new Promise<void>((r) => (stalled = r));
    const stalling = async (): Promise<PoolClient> => {
      const c = await connect();
      const query = c.query.bind(c) as (...a: unknown[]) => Promise<unknown>;
      let logInsert = false;
      (c as { query: unknown }).query = async (...a: unknown[]) => {
        const text = typeof a[0] === 'string' ? a[0] : '';
        if (text.startsWith('INSERT INTO provisioning_log')) logInsert = true;
        if (text === 'COMMIT' && logInsert) {
          stalled();
          await gate;
        }
        return query(...a);
      };
      return c;
    };
    // The promise form of connect (the one inTransaction uses).
    const promised = pool as unknown as { connect: () => Promise<PoolClient> };
    const spy = jest.spyOn(promised, 'connect').mockImplementation(stalling);
    let delayed: Promise<void> | undefined;
    let later: Promise<void> | undefined;
    let first: Awaited<ReturnType<typeof page>>;
    try {
      delayed = write(slow, 'delayed');
      await atCommit;
      // Another replica's batch meanwhile; it must not get ids the delayed batch would fall under.
      later = write(fast, 'later');
      await new Promise((r) => setTimeout(r, 200));
      first = await page('limit=2');
    } finally {
      release();
      await delayed;
      await later;
      spy.mockRestore();
    }
    // Walk on from the first page, as a client would.
    const walked = [...first.items];
    let before = first.next;
    for (let i = 0; before && i < 10; i++) {
      const p = await page(`limit=2&before=${before}`);
      walked.push(...p.items);
      before = p.next;
    }
    const top = first.items.length ? BigInt(first.items[0]!.id) : 0n;
    const all = (await page('limit=100')).items;
    expect(all.map((r) => r.requestId).sort()).toEqual(['delayed', 'later', 'old-1', 'old-2']);
    // Every row is in the walk or newer than where it started (a client's next poll from the top).
    const missed = all.filter((r) => !walked.some((w) => w.id === r.id) && BigInt(r.id) <= top);
    expect(missed).toEqual([]);
    // Ids follow commit order: the delayed batch committed first, so it is below the later one.
    const id = (req: string) => BigInt(all.find((r) => r.requestId === req)!.id);
    expect(id('delayed') < id('later')).toBe(true);
  });
});
