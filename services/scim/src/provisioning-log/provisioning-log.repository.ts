import { Injectable } from '@nestjs/common';
import { InjectPool } from '@idp/service-kit';
import type { Pool, PoolClient } from 'pg';
import { PrismaService } from '../db/prisma.service';
import { inTransaction } from '../db/sql';
import type { Prisma, ProvisioningLog } from '../generated/prisma/client';
import type { LogEntry, LogQuery } from './provisioning-log.service';

const COLUMNS = [
  'directory_id',
  'at',
  'request_id',
  'method',
  'operation',
  'resource_type',
  'resource_id',
  'outcome',
  'status',
  'duration_ms',
  'scim_type',
];

export type LogFilter = Omit<LogQuery, 'limit' | 'before'>;

/**
 * The advisory lock (single-bigint key space; the groups' locks use the two-int4 one) every
 * batch insert holds from taking its ids until it commits.
 */
export const LOG_ORDER_LOCK = 7_301_160_813n;

/**
 * provisioning_log. Batches are written with one multi-row INSERT on the pool (pg: logging must
 * stay cheap next to the requests it records); admin queries go through Prisma.
 */
@Injectable()
export class ProvisioningLogRepository {
  constructor(
    private readonly db: PrismaService,
    @InjectPool() private readonly pool: Pool,
  ) {}

  /**
   * Inserts a batch. Ids are commit-ordered: the batch takes its ids (the sequence) under a
   * transaction-scoped advisory lock that is released only at commit, so a batch committing later
   * (another replica's) always gets greater ids. Any reader's snapshot therefore sees a prefix of
   * the ids, and paging by id (`before`, the export's `after`) never skips a row that commits
   * after a page was read: such a row is newer than every row already read. The cost is that
   * replicas' batch inserts (one per 200 ms each) queue briefly behind one another.
   */
  async insertMany(entries: readonly LogEntry[], o: { skipWritten?: boolean } = {}): Promise<void> {
    if (!entries.length) return;
    await inTransaction(this.pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [LOG_ORDER_LOCK.toString()]);
      // A retried batch may have committed although its attempt failed (the reply was lost or
      // timed out): its rows already stored are left out. Under the lock no other batch commits
      // meanwhile; a request is its request id at its time (the id alone may come from a header).
      const rows = o.skipWritten ? await this.unwritten(c, entries) : entries;
      if (rows.length) await this.insert(c, rows);
    });
  }

  private async unwritten(c: PoolClient, entries: readonly LogEntry[]): Promise<LogEntry[]> {
    const times = entries.map((r) => r.at.getTime());
    const found = await c.query<{ request_id: string; at: Date }>(
      `SELECT request_id, at FROM provisioning_log
        WHERE at >= $1 AND at <= $2 AND request_id = ANY($3::text[])`,
      [new Date(Math.min(...times)), new Date(Math.max(...times)), entries.map((r) => r.requestId)],
    );
    const stored = new Set(found.rows.map((r) => `${r.at.getTime()} ${r.request_id}`));
    return entries.filter((r) => !stored.has(`${r.at.getTime()} ${r.requestId}`));
  }

  private async insert(c: PoolClient, entries: readonly LogEntry[]): Promise<void> {
    const params: unknown[] = [];
    const values = entries.map((r) => {
      params.push(
        r.directoryId,
        r.at,
        r.requestId,
        r.method,
        r.operation,
        r.resourceType,
        r.resourceId,
        r.outcome,
        r.status,
        r.durationMs,
        r.scimType,
      );
      const first = params.length - COLUMNS.length;
      return `(${COLUMNS.map((_, i) => `$${first + i + 1}`).join(', ')})`;
    });
    await c.query(
      `INSERT INTO provisioning_log (${COLUMNS.join(', ')}) VALUES ${values.join(', ')}`,
      params,
    );
  }

  private where(q: LogFilter): Prisma.ProvisioningLogWhereInput {
    return {
      directoryId: q.directoryId,
      ...(q.since || q.until
        ? { at: { ...(q.since ? { gte: q.since } : {}), ...(q.until ? { lt: q.until } : {}) } }
        : {}),
      ...(q.resourceType ? { resourceType: { equals: q.resourceType, mode: 'insensitive' } } : {}),
      ...(q.resourceId ? { resourceId: q.resourceId } : {}),
      ...(q.outcome ? { outcome: q.outcome } : {}),
      ...(q.operation ? { operation: q.operation } : {}),
    };
  }

  /** Newest first, before the row id `before` when given. */
  newest(q: LogFilter, limit: number, before?: bigint): Promise<ProvisioningLog[]> {
    return this.db.provisioningLog.findMany({
      where: { AND: [this.where(q), ...(before !== undefined ? [{ id: { lt: before } }] : [])] },
      orderBy: { id: 'desc' },
      take: limit,
    });
  }

  /** Oldest first, after the row id `after`. */
  oldestAfter(q: LogFilter, after: bigint, limit: number): Promise<ProvisioningLog[]> {
    return this.db.provisioningLog.findMany({
      where: { AND: [this.where(q), { id: { gt: after } }] },
      orderBy: { id: 'asc' },
      take: limit,
    });
  }

  /**
   * Deletes up to `limit` rows logged before `cutoff` (oldest first, through the index on `at`);
   * returns how many. Callers loop: one DELETE of a large backlog would outlive the statement
   * timeout and be cancelled on every run, so the table would never shrink.
   */
  async deleteBatchBefore(cutoff: Date, limit: number): Promise<number> {
    return this.db.$executeRaw`
      DELETE FROM provisioning_log WHERE id IN (
        SELECT id FROM provisioning_log WHERE at < ${cutoff} ORDER BY at LIMIT ${limit})`;
  }
}
