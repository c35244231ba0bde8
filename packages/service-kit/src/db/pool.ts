import { Inject, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { Pool } from 'pg';

export const PG_POOL = Symbol('PG_POOL');
export const InjectPool = (): ParameterDecorator => Inject(PG_POOL);

/**
 * The service's pool. `statementTimeoutMs` (> 0) becomes each connection's statement_timeout:
 * PostgreSQL cancels a longer statement (SQLSTATE 57014, see isStatementTimeout), so one costly
 * request cannot keep the pool's ten connections busy for everyone else.
 */
export function poolProvider(url: () => string, statementTimeoutMs = 0): Provider {
  return {
    provide: PG_POOL,
    useFactory: () =>
      new Pool({
        connectionString: url(),
        max: 10,
        ...(statementTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs } : {}),
      }),
  };
}

/** The error PostgreSQL raises for a statement cancelled by statement_timeout (query_canceled). */
export const isStatementTimeout = (e: unknown): boolean =>
  typeof e === 'object' && e !== null && (e as { code?: unknown }).code === '57014';

/** Closes the pool last, after HTTP and NATS have drained. */
export class PoolLifecycle implements OnApplicationShutdown {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}
  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}
