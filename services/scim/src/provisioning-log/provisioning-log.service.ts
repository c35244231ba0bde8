import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { InjectPool } from '@idp/service-kit';
import type { Pool } from 'pg';
import { SCIM_CONFIG, type ScimConfig } from '../config';
import { PrismaService } from '../db/prisma.service';
import type { Prisma } from '../generated/prisma/client';

export interface LogEntry {
  directoryId: string | null;
  at: Date;
  requestId: string;
  method: string;
  operation: string;
  resourceType: string;
  resourceId: string | null;
  outcome: 'success' | 'failure';
  status: number;
  durationMs: number;
  scimType: string | null;
}

export interface LogQuery {
  directoryId: string;
  since?: Date;
  until?: Date;
  resourceType?: string;
  resourceId?: string;
  outcome?: 'success' | 'failure';
  operation?: string;
  /** Continue after this row id (newest first). */
  before?: bigint;
  limit: number;
}

export interface LogRecord extends Omit<LogEntry, 'at'> {
  id: string;
  at: string;
}

const FLUSH_MS = 200;
const FLUSH_ROWS = 500;

/**
 * The provisioning log. Rows are buffered and written in batches so logging does not add a write
 * to every SCIM request; the buffer is flushed on shutdown.
 */
@Injectable()
export class ProvisioningLogService implements OnModuleDestroy {
  private readonly log = new Logger('provisioning-log');
  private buffer: LogEntry[] = [];
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: PrismaService,
    @InjectPool() private readonly pool: Pool,
    @Inject(SCIM_CONFIG) private readonly config: ScimConfig,
  ) {}

  record(e: LogEntry): void {
    this.buffer.push(e);
    if (this.buffer.length >= FLUSH_ROWS) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** Writes everything buffered so far (tests and shutdown call it). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const rows = this.buffer;
    this.buffer = [];
    this.writing = this.writing.then(async () => {
      if (!rows.length) return;
      try {
        // One multi-row INSERT through the pool: logging must stay cheap next to the requests it records.
        const cols = [
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
        const params: unknown[] = [];
        const values = rows.map((r) => {
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
          return `(${cols.map((_, i) => `$${params.length - cols.length + i + 1}`).join(', ')})`;
        });
        await this.pool.query(
          `INSERT INTO provisioning_log (${cols.join(', ')}) VALUES ${values.join(', ')}`,
          params,
        );
      } catch (e) {
        this.log.error(
          `could not write ${rows.length} provisioning log rows: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    });
    return this.writing;
  }

  async onModuleDestroy(): Promise<void> {
    await this.flush();
  }

  private where(q: Omit<LogQuery, 'limit' | 'before'>): Prisma.ProvisioningLogWhereInput {
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

  async query(q: LogQuery): Promise<{ items: LogRecord[]; next?: string }> {
    await this.flush();
    const rows = await this.db.provisioningLog.findMany({
      where: { AND: [this.where(q), ...(q.before ? [{ id: { lt: q.before } }] : [])] },
      orderBy: { id: 'desc' },
      take: q.limit,
    });
    const items = rows.map(toRecord);
    return { items, ...(rows.length === q.limit ? { next: items[items.length - 1].id } : {}) };
  }

  /** Every matching row, oldest first, in pages (for the NDJSON export). */
  async *export(q: Omit<LogQuery, 'limit' | 'before'>): AsyncGenerator<LogRecord> {
    await this.flush();
    let after = BigInt(0);
    for (;;) {
      const rows = await this.db.provisioningLog.findMany({
        where: { AND: [this.where(q), { id: { gt: after } }] },
        orderBy: { id: 'asc' },
        take: 1000,
      });
      for (const r of rows) yield toRecord(r);
      if (rows.length < 1000) return;
      after = rows[rows.length - 1].id;
    }
  }

  /** Deletes rows older than the retention; returns how many. */
  async purgeExpired(now = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - this.config.SCIM_LOG_RETENTION_DAYS * 86_400_000);
    const r = await this.db.provisioningLog.deleteMany({ where: { at: { lt: cutoff } } });
    return r.count;
  }
}

function toRecord(
  r: { id: bigint; at: Date; outcome: string } & Omit<LogEntry, 'at' | 'outcome'>,
): LogRecord {
  return {
    ...r,
    id: r.id.toString(),
    at: r.at.toISOString(),
    outcome: r.outcome as LogEntry['outcome'],
  };
}
