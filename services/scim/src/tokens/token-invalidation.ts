import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { databaseUnavailableReason } from '@idp/service-kit';
import { Client, type Notification } from 'pg';
import { SCIM_CONFIG, type ScimConfig } from '../config';
import type { Prisma } from '../generated/prisma/client';

/** The PostgreSQL channel revocations and directory changes are announced on. */
export const INVALIDATION_CHANNEL = 'scim_invalidation';

/** What changed: a token (revoked) or a directory (settings changed, or deleted with its tokens). */
export type Invalidation = { tokenId: string } | { directoryId: string };

/**
 * Announces `what` to every replica (and itself) when the caller's transaction commits: NOTIFY is
 * transactional, so a rolled-back revocation announces nothing and a committed one is announced
 * after the row is visible.
 */
export async function notifyInvalidation(
  tx: Prisma.TransactionClient,
  what: Invalidation,
): Promise<void> {
  await tx.$executeRaw`SELECT pg_notify(${INVALIDATION_CHANNEL}, ${JSON.stringify(what)})`;
}

function parse(payload: string | undefined): Invalidation | undefined {
  try {
    const v: unknown = JSON.parse(payload ?? '');
    if (typeof v !== 'object' || v === null) return undefined;
    const o = v as Record<string, unknown>;
    if (typeof o.tokenId === 'string') return { tokenId: o.tokenId };
    if (typeof o.directoryId === 'string') return { directoryId: o.directoryId };
  } catch {
    // Not ours: ignored.
  }
  return undefined;
}

/** A cache that drops entries on an invalidation; `undefined` drops everything. */
export interface InvalidationTarget {
  invalidate(what: Invalidation | undefined): void;
}

const RETRY_MIN_MS = 500;
/** The cap of the backoff: a channel down for good is retried twice a minute per replica. */
const RETRY_MAX_MS = 30_000;
/**
 * How long a connection must stay up before the backoff starts over (default): a proxy or server
 * that accepts and LISTENs then drops the connection would otherwise be reconnected every
 * RETRY_MIN_MS by every replica, forever.
 */
const STABLE_MS = 30_000;

/** Options of TokenInvalidationListener (AppModule.forRoot's `invalidation`); defaults when absent. */
export interface InvalidationListenerOptions {
  /** How long (ms) a connection must have stayed up for the reconnect backoff to start over. */
  stableMs?: number;
}
export const INVALIDATION_LISTENER_OPTIONS = Symbol('INVALIDATION_LISTENER_OPTIONS');
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Listens on INVALIDATION_CHANNEL over a connection of its own (LISTEN needs one held open, which
 * a pool cannot give) and clears the token and directory caches of this process, so a revocation
 * made by another replica or the CLI takes effect here within milliseconds rather than the caches'
 * 5 s. While the connection is down the caches fall back to their TTL; it is reopened with
 * backoff, and every cache is cleared on (re)connecting since announcements may have been missed.
 */
@Injectable()
export class TokenInvalidationListener implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('token-invalidation');
  private readonly targets: InvalidationTarget[] = [];
  private client: Client | undefined;
  private retry: NodeJS.Timeout | undefined;
  private delay = RETRY_MIN_MS;
  /** When the current connection started listening (monotonic ms), for stableMs. */
  private listeningSince: number | undefined;
  private stopped = false;
  private connected = false;
  /** Clients already ended (by us or by their connection closing). */
  private readonly ended = new WeakSet<Client>();
  private readonly stableMs: number;

  constructor(
    @Inject(SCIM_CONFIG) private readonly config: ScimConfig,
    @Optional() @Inject(INVALIDATION_LISTENER_OPTIONS) options?: InvalidationListenerOptions,
  ) {
    const stableMs = options?.stableMs ?? STABLE_MS;
    if (!Number.isFinite(stableMs) || stableMs < 0)
      throw new Error(`stableMs must be a non-negative number of milliseconds, got ${stableMs}`);
    this.stableMs = stableMs;
  }

  register(target: InvalidationTarget): void {
    this.targets.push(target);
  }

  /** Whether announcements are being received now (false: caches rely on their TTL). */
  get listening(): boolean {
    return this.connected;
  }

  /** Not awaited: a database that is down at boot must not hold the service's start (readiness says so). */
  onApplicationBootstrap(): void {
    void this.connect();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    const c = this.client;
    this.client = undefined;
    this.connected = false;
    if (c) await this.end(c);
  }

  /** Ends `c` once; later calls (and an 'end' already seen) are no-ops. */
  private async end(c: Client): Promise<void> {
    if (this.ended.has(c)) return;
    this.ended.add(c);
    await c.end().catch(() => undefined);
  }

  /**
   * Applies an invalidation to this process's caches now (the change was made here), without
   * waiting for its announcement to come back.
   */
  dispatch(what: Invalidation | undefined): void {
    for (const t of this.targets) t.invalidate(what);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const c = new Client({
      connectionString: this.config.DATABASE_URL,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      // The connection only listens: without keepalive a half-open one after a failover would
      // look alive while no notification arrives (revocations back to the cache's 5 s).
      keepAlive: true,
      keepAliveInitialDelayMillis: 30_000,
    });
    // An error on an idle client must not crash the process; `end` follows and schedules a retry.
    c.on('error', (e) => this.log.warn(`invalidation channel error: ${e.message}`));
    c.on('end', () => {
      this.ended.add(c);
      if (this.client !== c) return;
      this.client = undefined;
      this.connected = false;
      if (
        this.listeningSince !== undefined &&
        performance.now() - this.listeningSince >= this.stableMs
      )
        this.delay = RETRY_MIN_MS;
      this.listeningSince = undefined;
      this.schedule();
    });
    c.on('notification', (n: Notification) => {
      if (n.channel === INVALIDATION_CHANNEL) this.dispatch(parse(n.payload));
    });
    this.client = c;
    try {
      await c.connect();
      await c.query(`LISTEN ${INVALIDATION_CHANNEL}`);
      if (this.client !== c) return;
      this.connected = true;
      // The backoff starts over only once this connection has lasted stableMs (on its `end`).
      this.listeningSince = performance.now();
      // Announcements sent while not listening are lost: start from an empty cache.
      this.dispatch(undefined);
    } catch (e) {
      // The reason, not pg's message, which can name the host.
      const reason = databaseUnavailableReason(e) ?? (e instanceof Error ? e.message : String(e));
      this.log.warn(`invalidation channel unavailable (caches fall back to their TTL): ${reason}`);
      if (this.client === c) this.client = undefined;
      // Shutdown (or a lost connection) may have ended it already: a second end() can wait for
      // an 'end' event that has fired.
      if (!this.ended.has(c)) await this.end(c);
      this.schedule();
    }
  }

  private schedule(): void {
    if (this.stopped || this.retry) return;
    const wait = this.delay;
    this.delay = Math.min(this.delay * 2, RETRY_MAX_MS);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.connect();
    }, wait);
    this.retry.unref();
  }
}
