import { Inject, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { Pool } from 'pg';

export const PG_POOL = Symbol('PG_POOL');
export const InjectPool = (): ParameterDecorator => Inject(PG_POOL);

export function poolProvider(url: () => string): Provider {
  return { provide: PG_POOL, useFactory: () => new Pool({ connectionString: url(), max: 10 }) };
}

/** Closes the pool last, after HTTP and NATS have drained. */
export class PoolLifecycle implements OnApplicationShutdown {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}
  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}
