import { Inject, Logger, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { Pool } from 'pg';

export const PG_POOL = Symbol('PG_POOL');
export const InjectPool = (): ParameterDecorator => Inject(PG_POOL);
const poolLog = new Logger('database');

/** How long a query waits for a connection (a new one, or a free one) unless told otherwise. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export interface PoolSettings {
  /** Connections at most. */
  max: number;
  /** statement_timeout of each connection in milliseconds; 0: none. */
  statementTimeoutMs?: number;
  /** How long a query waits for a connection (a new one, or a free one) before it fails. */
  connectTimeoutMs?: number;
}

/**
 * A pg pool as the services use it. `statementTimeoutMs` (> 0) becomes each connection's
 * statement_timeout: PostgreSQL cancels a longer statement (SQLSTATE 57014, see
 * isStatementTimeout), so one costly request cannot keep the pool busy for everyone else.
 * `connectTimeoutMs` bounds getting a connection (pg waits for ever by default): a server that
 * accepted the TCP connection but never answered its startup kept those connections
 * "connecting" for good, so the pool stayed full (and /readyz 503) after the database was back.
 */
export function createPool(url: string, s: PoolSettings): Pool {
  const statementTimeoutMs = s.statementTimeoutMs ?? 0;
  const pool = new Pool({
    connectionString: url,
    max: s.max,
    connectionTimeoutMillis: s.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    ...(statementTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs } : {}),
  });
  // PostgreSQL ending an idle connection (restart, failover, pg_terminate_backend) is an 'error'
  // on the pool, which drops that client itself; unheard, it ended the process. Prisma's adapter
  // listens only while it is connected, so before $connect and after $disconnect (the shutdown
  // drain) a database restart crashed the service.
  pool.on('error', (e) =>
    poolLog.warn(`idle connection lost (${pgErrorCode(e) ?? 'no code'}): ${e.message}`),
  );
  // Lost while checked out between two statements (the outbox relay's loop, a transaction), the
  // connection is an 'error' on that client, which no one hears: it ended the process. The next
  // statement on it fails (database unavailable) and its caller answers or retries; the pool
  // drops the client when it comes back.
  pool.on('connect', (client) =>
    client.on('error', (e) => poolLog.debug(`connection lost (${pgErrorCode(e) ?? 'no code'})`)),
  );
  return pool;
}

/** The service's pool of ten connections (see {@link createPool}). */
export function poolProvider(
  url: () => string,
  statementTimeoutMs = 0,
  connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS,
): Provider {
  return {
    provide: PG_POOL,
    useFactory: () => createPool(url(), { max: 10, statementTimeoutMs, connectTimeoutMs }),
  };
}

/** The PostgreSQL code (SQLSTATE) of a pg error, or of the driver error Prisma wraps (meta.driverAdapterError). */
export function pgErrorCode(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  // Prisma's own code (P2039 "database error") is not PostgreSQL's: the driver's is in meta.
  const cause = (e as { meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } })
    .meta?.driverAdapterError?.cause?.originalCode;
  if (typeof cause === 'string') return cause;
  const direct = (e as { code?: unknown }).code;
  return typeof direct === 'string' ? direct : undefined;
}

/** The error PostgreSQL raises for a statement cancelled by statement_timeout (query_canceled). */
export const isStatementTimeout = (e: unknown): boolean => pgErrorCode(e) === '57014';

/**
 * PostgreSQL codes meaning "busy or unavailable, retry later": statement timeout (query_canceled),
 * lock_not_available, too_many_connections, admin/crash shutdown, cannot_connect_now, and a
 * transaction chosen as a deadlock victim or failed serialization (nothing of it was committed).
 */
const TRANSIENT = new Set(['57014', '55P03', '53300', '57P01', '57P02', '57P03', '40P01', '40001']);

export function isTransientDbError(e: unknown): boolean {
  const code = pgErrorCode(e);
  return code !== undefined && TRANSIENT.has(code);
}

/**
 * SQLSTATEs of a server that is going away or refusing connections: admin_shutdown,
 * crash_shutdown, cannot_connect_now (starting up or shutting down), too_many_connections.
 * Class 08 (connection_exception) is matched as a whole.
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
/** Socket errors of a host that cannot be reached (as pg and Node report them). */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);
/**
 * Prisma's codes for the same: can't reach (P1001), connect timed out (P1002), socket timeout
 * (P1008), server closed the connection (P1017), pool timeout (P2024), too many connections (P2037).
 */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2037']);
/** @prisma/adapter-pg's DriverAdapterError kinds for connection failures. */
const ADAPTER_KINDS = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
]);
/**
 * pg's errors without any code (Prisma's adapter passes them through as they are): no connection
 * within connectionTimeoutMillis (pool full, or a server that never answers), a connection that
 * died under a query or transaction.
 */
const PG_MESSAGES = new Set([
  'timeout exceeded when trying to connect',
  'Connection terminated due to connection timeout',
  'Connection terminated unexpectedly',
  'Client has encountered a connection error and is not queryable',
]);

/** `outermost`: socket codes count only on the error thrown itself (pg rethrows the socket's). */
function unavailableReason(e: object, outermost: boolean): string | undefined {
  const { code, errorCode, kind, message } = e as {
    code?: unknown;
    errorCode?: unknown;
    kind?: unknown;
    message?: unknown;
  };
  for (const c of [code, errorCode]) {
    if (typeof c !== 'string') continue;
    if (UNAVAILABLE_SQLSTATES.has(c) || /^08[0-9A-Z]{3}$/.test(c)) return `SQLSTATE ${c}`;
    if ((outermost && SOCKET_CODES.has(c)) || PRISMA_CODES.has(c)) return c;
  }
  if (typeof kind === 'string' && ADAPTER_KINDS.has(kind)) return kind;
  if (typeof message === 'string' && PG_MESSAGES.has(message)) return message;
  return undefined;
}

/**
 * Why `e` means the database cannot be reached or is going away (a short label without host,
 * credentials or connection string, fit for a log line), or undefined if it means something else.
 * Looks at the error as pg raises it and as Prisma wraps it with @prisma/adapter-pg:
 * `meta.driverAdapterError.cause` (kind, originalCode), and the `cause` chain. A socket code
 * counts only on the outermost error: fetch's "fetch failed" to some other host carries one in
 * its cause, and is no database's.
 */
export function databaseUnavailableReason(e: unknown): string | undefined {
  const seen = new Set<object>();
  const queue: unknown[] = [e];
  while (queue.length > 0) {
    const x = queue.shift();
    if (typeof x !== 'object' || x === null || seen.has(x)) continue;
    seen.add(x);
    const pgCode = pgErrorCode(x);
    const reason =
      unavailableReason(x, x === e) ??
      (pgCode !== undefined ? unavailableReason({ code: pgCode }, false) : undefined);
    if (reason !== undefined) return reason;
    const { cause, meta } = x as { cause?: unknown; meta?: { driverAdapterError?: unknown } };
    queue.push(meta?.driverAdapterError, cause);
  }
  return undefined;
}

/**
 * The database is unreachable, stalled, restarting or out of connections: retry later (503 with
 * Retry-After: DATABASE_RETRY_AFTER_SECONDS), never a 500. A statement timeout is not this (see
 * isStatementTimeout).
 */
export const isDatabaseUnavailable = (e: unknown): boolean =>
  databaseUnavailableReason(e) !== undefined;

/** Retry-After (seconds) of a 503 for an unavailable database: about a restart's length. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/** Closes the pool last, after HTTP and NATS have drained. */
export class PoolLifecycle implements OnApplicationShutdown {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}
  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}
