import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationShutdown,
  type OnModuleDestroy,
} from '@nestjs/common';
import { InjectPool } from '@idp/service-kit';
import { Client, type Pool, type PoolClient } from 'pg';
import { CleanupScheduler } from '../cleanup/cleanup.scheduler';
import { SCIM_CONFIG, type ScimConfig } from '../config';
import { OutboxRelayService } from '../events/outbox-relay.service';
import { ProvisioningLogService } from '../provisioning-log/provisioning-log.service';
import { TokenExpiryService } from '../tokens/token-expiry.service';
import { TokenInvalidationListener } from '../tokens/token-invalidation';

/** How often statements still running past the grace are cancelled again (a retry starts a new one). */
const CANCEL_EVERY_MS = 250;
const CANCEL_CONNECT_TIMEOUT_MS = 2_000;

/**
 * Bounds the database work of a shutdown, and writes the provisioning log last. Closing waits for whatever holds a pooled connection:
 * the provisioning log's last flush (queued on the advisory lock other replicas hold), the relay's
 * and the periodic jobs' current pass, requests still running (the pool's `end` waits for every
 * connection to come back). Each may wait on a lock up to DATABASE_STATEMENT_TIMEOUT_MS, so closing
 * could take several statement timeouts. From the start of the shutdown, work gets half of
 * SHUTDOWN_TIMEOUT_MS to finish; then every statement still running on a pooled connection is
 * cancelled (PostgreSQL rolls its transaction back, so nothing is half-written) until the pool
 * is empty.
 *
 * It depends on the providers whose hooks wait, so Nest runs its onModuleDestroy before theirs
 * (a provider is destroyed before what it depends on), and its onApplicationShutdown runs before
 * service-kit's pool `end` (the root module's hooks come before the global ones').
 */
@Injectable()
export class DatabaseShutdown implements OnModuleDestroy, OnApplicationShutdown {
  private readonly log = new Logger('shutdown');
  /** Pooled connections handed out and not yet returned. */
  private readonly out = new Set<PoolClient>();
  private grace?: NodeJS.Timeout;
  private cancelling?: NodeJS.Timeout;
  private drained?: () => void;
  private stopped = false;

  constructor(
    @InjectPool() private readonly pool: Pool,
    @Inject(SCIM_CONFIG) private readonly config: ScimConfig,
    private readonly provisioningLog: ProvisioningLogService,
    // Only for the order of the hooks (see above).
    _relay: OutboxRelayService,
    _expiry: TokenExpiryService,
    _listener: TokenInvalidationListener,
    @Optional() _cleanup?: CleanupScheduler,
  ) {
    pool.on('acquire', (c) => this.out.add(c));
    pool.on('release', (_e, c) => this.returned(c));
    pool.on('remove', (c) => this.returned(c));
  }

  /** The start of the shutdown: the grace begins. */
  onModuleDestroy(): void {
    this.grace ??= setTimeout(() => this.cancelRunning(), this.config.SHUTDOWN_TIMEOUT_MS / 2);
    this.grace.unref();
  }

  /**
   * HTTP and the background jobs have stopped: the provisioning-log rows of the requests that
   * finished meanwhile (after the log's own flush at the start of the shutdown) are written, and
   * the connections still out are waited for (cancelled past the grace), before the pool closes.
   */
  async onApplicationShutdown(): Promise<void> {
    await this.provisioningLog.flush();
    if (this.out.size > 0) await new Promise<void>((r) => (this.drained = r));
    this.stopped = true;
    clearTimeout(this.grace);
    clearTimeout(this.cancelling);
  }

  private returned(c: PoolClient): void {
    this.out.delete(c);
    if (this.out.size === 0) this.drained?.();
  }

  /** Past the grace: cancels what runs now, and again every CANCEL_EVERY_MS until the pool is empty. */
  private cancelRunning(): void {
    // pg keeps the backend's process id on the client (not in its typings).
    const pids = [...this.out]
      .map((c) => (c as PoolClient & { processID?: unknown }).processID)
      .filter((p): p is number => typeof p === 'number');
    const again = () => {
      this.cancelling = setTimeout(() => this.cancelRunning(), CANCEL_EVERY_MS);
      this.cancelling.unref();
    };
    if (this.stopped) return;
    if (pids.length === 0) return again();
    this.log.warn(`cancelling ${pids.length} database statement(s) still running at shutdown`);
    void this.cancel(pids).finally(again);
  }

  /** On a connection of its own: the pool may be exhausted by the very statements to cancel. */
  private async cancel(pids: number[]): Promise<void> {
    const c = new Client({
      connectionString: this.config.DATABASE_URL,
      connectionTimeoutMillis: CANCEL_CONNECT_TIMEOUT_MS,
    });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.query('SELECT pg_cancel_backend(pid) FROM unnest($1::int[]) AS pid', [pids]);
    } catch (e) {
      this.log.warn(`could not cancel statements: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      await c.end().catch(() => undefined);
    }
  }
}
