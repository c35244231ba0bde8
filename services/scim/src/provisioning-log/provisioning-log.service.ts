import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import {
  databaseUnavailableReason,
  isStatementTimeout,
  isTransientDbError,
} from '@idp/service-kit';
import { SCIM_CONFIG, type ScimConfig } from '../config';
import { DIRECTORY_ID } from '../tokens/directories.service';
import { ProvisioningLogRepository, type LogFilter } from './provisioning-log.repository';
import { Counter, register } from 'prom-client';

// Registered once per process (tests build several apps in one process).
const dropped =
  (register.getSingleMetric('scim_provisioning_log_dropped_total') as Counter | undefined) ??
  new Counter({
    name: 'scim_provisioning_log_dropped_total',
    help: 'Provisioning-log rows dropped unwritten (the backlog kept while the database is unavailable was full or too old)',
  });

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
/**
 * While the database is unavailable rows stay buffered (the requests answered 503 are what an
 * operator looks for afterwards), up to this many and this old; beyond, the oldest are dropped.
 */
export const BACKLOG_MAX_ROWS = 10_000;
export const BACKLOG_MAX_AGE_MS = 15 * 60_000;
/** Retries of a failed flush back off from FLUSH_MS, doubling up to this. */
const RETRY_MAX_MS = 30_000;
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
  /** Rows not yet written, oldest first; the first `inFlight` are being inserted right now. */
  private buffer: LogEntry[] = [];
  private inFlight = 0;
  /** Rows of a failed attempt: it may have committed anyway, so a retry skips what is stored. */
  private readonly attempted = new WeakSet<LogEntry>();
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  /** Consecutive failed flushes (0: the database is writable). */
  private failures = 0;
  private droppedInOutage = 0;

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
    this.bound();
    if (this.failures) return; // the backoff timer is set
    if (this.buffer.length >= FLUSH_ROWS) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /**
   * Writes everything buffered so far, in order (tests, queries and shutdown call it: they retry
   * at once; the timer's flushes wait out the backoff). Never rejects: failed rows stay buffered.
   */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.writing = this.writing.then(() => this.drain());
    return this.writing;
  }

  private async drain(): Promise<void> {
    while (this.buffer.length) {
      this.bound();
      const batch = this.buffer.slice(0, FLUSH_ROWS);
      this.inFlight = batch.length;
      try {
        await this.repo.insertMany(batch, {
          skipWritten: batch.some((r) => this.attempted.has(r)),
        });
      } catch (e) {
        if (!retryable(e)) {
          // A batch the database refuses as such (a value it cannot store): retrying would stop
          // the log for good, so it is dropped (counted) and the rows after it are written.
          this.log.error(
            `could not write ${batch.length} provisioning log rows, dropped: ${e instanceof Error ? e.message : String(e)}`,
          );
          this.inFlight = 0;
          this.buffer.splice(0, batch.length);
          dropped.inc(batch.length);
          continue;
        }
        for (const r of batch) this.attempted.add(r);
        this.failed(e);
        return;
      } finally {
        this.inFlight = 0;
      }
      this.buffer.splice(0, batch.length);
      if (this.failures) {
        this.log.log(
          `provisioning log writable again after ${this.failures} failed flushes` +
            (this.droppedInOutage ? ` (${this.droppedInOutage} rows dropped)` : ''),
        );
        this.failures = 0;
        this.droppedInOutage = 0;
      }
    }
  }

  private failed(e: unknown): void {
    // One warning per outage, with the reason only (the error's message can name the host).
    if (!this.failures)
      this.log.warn(
        `could not write provisioning log rows: database unavailable (${databaseUnavailableReason(e) ?? 'timeout or transient error'}); keeping up to ${BACKLOG_MAX_ROWS} rows and retrying`,
      );
    this.failures++;
    const delay = Math.min(RETRY_MAX_MS, FLUSH_MS * 2 ** this.failures);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), delay);
    this.timer.unref();
  }

  /** Drops the oldest rows not being written beyond the backlog's caps, counting them. */
  private bound(): void {
    const oldest = Date.now() - BACKLOG_MAX_AGE_MS;
    let n = Math.max(0, this.buffer.length - BACKLOG_MAX_ROWS);
    while (
      this.inFlight + n < this.buffer.length &&
      this.buffer[this.inFlight + n]!.at.getTime() < oldest
    )
      n++;
    if (!n) return;
    this.buffer.splice(this.inFlight, n);
    dropped.inc(n);
    if (!this.droppedInOutage)
      this.log.warn(
        `provisioning log backlog full or too old: dropping the oldest rows (counted in scim_provisioning_log_dropped_total)`,
      );
    this.droppedInOutage += n;
  }

  async onModuleDestroy(): Promise<void> {
    await this.flush();
    if (this.buffer.length)
      this.log.warn(`${this.buffer.length} provisioning log rows not written at shutdown`);
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

/** Failures that pass: the database down or busy, or an attempt whose outcome is unknown. */
function retryable(e: unknown): boolean {
  return (
    databaseUnavailableReason(e) !== undefined || isTransientDbError(e) || isStatementTimeout(e)
  );
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
