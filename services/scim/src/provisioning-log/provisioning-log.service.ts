import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { databaseUnavailableReason, isStatementTimeout } from '@idp/service-kit';
import { SCIM_CONFIG, type ScimConfig } from '../config';
import { DIRECTORY_ID } from '../tokens/directories.service';
import { ProvisioningLogRepository, type LogFilter } from './provisioning-log.repository';

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

/** Resource ids as UsersService and GroupsService issue them (randomUUID). */
const ISSUED_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const FLUSH_MS = 200;
const FLUSH_ROWS = 500;
const EXPORT_PAGE = 1000;
/** Rows per DELETE of the retention purge (each well inside the statement timeout). */
const PURGE_BATCH = 5000;
/** A DELETE that still hits the statement timeout at this size is a real failure. */
const PURGE_BATCH_MIN = 50;

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
    private readonly repo: ProvisioningLogRepository,
    @Inject(SCIM_CONFIG) private readonly config: ScimConfig,
  ) {}

  /**
   * Queues a row. The ids come from the URL, which any caller (a misconfigured client, anyone
   * without a token) writes: a resource id is kept only in the shape this service issues (a UUID)
   * and a directory id only in the shape directories have, so the log never holds a user name,
   * an address or a long string someone put in a path.
   */
  record(e: LogEntry): void {
    this.buffer.push({
      ...e,
      directoryId:
        e.directoryId !== null && DIRECTORY_ID.test(e.directoryId) ? e.directoryId : null,
      resourceId: e.resourceId !== null && ISSUED_ID.test(e.resourceId) ? e.resourceId : null,
    });
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
      try {
        await this.repo.insertMany(rows);
      } catch (e) {
        // An unavailable database: one warning with the reason (its message can name the host).
        const unavailable = databaseUnavailableReason(e);
        if (unavailable !== undefined)
          this.log.warn(
            `could not write ${rows.length} provisioning log rows: database unavailable (${unavailable})`,
          );
        else
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

  async query(q: LogQuery): Promise<{ items: LogRecord[]; next?: string }> {
    await this.flush();
    const { limit, before, ...filter } = q;
    const items = (await this.repo.newest(filter, limit, before)).map(toRecord);
    const last = items.at(-1);
    return { items, ...(items.length === limit && last ? { next: last.id } : {}) };
  }

  /** Every matching row, oldest first, in pages (for the NDJSON export). */
  async *export(q: LogFilter): AsyncGenerator<LogRecord> {
    await this.flush();
    let after = BigInt(0);
    for (;;) {
      const rows = await this.repo.oldestAfter(q, after, EXPORT_PAGE);
      for (const r of rows) yield toRecord(r);
      const last = rows.at(-1);
      if (rows.length < EXPORT_PAGE || !last) return;
      after = last.id;
    }
  }

  /** Deletes rows older than the retention; returns how many. */
  async purgeExpired(now = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - this.config.SCIM_LOG_RETENTION_DAYS * 86_400_000);
    let deleted = 0;
    let batch = PURGE_BATCH;
    for (;;) {
      let n: number;
      try {
        n = await this.repo.deleteBatchBefore(cutoff, batch);
      } catch (e) {
        // A busy database makes even a normal batch outlast the statement timeout: smaller
        // batches instead of giving up (each DELETE is its own transaction, nothing half-done).
        if (!isStatementTimeout(e) || batch <= PURGE_BATCH_MIN) throw e;
        batch = Math.max(PURGE_BATCH_MIN, Math.floor(batch / 4));
        continue;
      }
      deleted += n;
      if (n < batch) return deleted;
    }
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
