import {
  type DynamicModule,
  Inject,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { ensureStreams, type StreamName } from '@idp/contracts';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Pool } from 'pg';
import type { CommonEnv } from './config/env';
import { createPool, PG_POOL, PoolLifecycle, poolProvider } from './db/pool';
import { HealthController } from './health/health.controller';
import { ReadinessRegistry } from './health/readiness';
import { MetricsController } from './metrics/metrics.controller';
import { trackOutboxLag } from './metrics/outbox-lag';
import { applyMigrations } from './migrate/migrate';
import { OutboxWriter } from './outbox/outbox-writer';
import { NATS_CONNECTION, NatsLifecycle, natsProvider } from './nats/nats.providers';

export interface ServiceKitOptions {
  service: string;
  config: Pick<CommonEnv, 'LOG_LEVEL'> &
    Partial<
      Pick<
        CommonEnv,
        | 'NATS_URL'
        | 'NATS_USER'
        | 'NATS_PASSWORD'
        | 'DATABASE_URL'
        | 'MIGRATE_ON_START'
        | 'DATABASE_STATEMENT_TIMEOUT_MS'
      >
    >;
  /**
   * Services that neither publish nor subscribe (the portal) set this to false: no connection,
   * no NATS readiness check, and so no NATS user or network path to grant them.
   */
  nats?: boolean;
  /** JetStream streams this service publishes to; created at boot. */
  streams?: StreamName[];
  /** Prisma migrations folder, applied at boot when MIGRATE_ON_START is true. */
  migrationsDir?: string;
  /** Services without a database (the token broker) set this to false. */
  database?: boolean;
  /** How long a query waits for a pool connection before it fails (default 10 s); tests shorten it. */
  databaseConnectTimeoutMs?: number;
}

const OPTIONS = Symbol('SERVICE_KIT_OPTIONS');

class ReadinessWiring implements OnApplicationBootstrap {
  constructor(
    private readonly registry: ReadinessRegistry,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(OPTIONS) private readonly o: ServiceKitOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.registry.register('nats', async () => {
      if (this.nc.isClosed()) throw new Error('closed');
      await this.nc.flush(); // a round trip to the server
    });
    if (this.o.streams?.length)
      await ensureStreams(await jetstreamManager(this.nc), this.o.streams);
  }
}

// The readiness check's own connection: it answers within the probe's deadline or not at all.
const PROBE_TIMEOUT_MS = 2000;

class DatabaseWiring implements OnApplicationBootstrap, OnApplicationShutdown {
  private untrackOutbox?: () => void;
  /**
   * Readiness asks PostgreSQL on a connection of its own: with the pool's ten busy with slow
   * requests, a SELECT 1 waited behind them and /readyz said 503, so load that saturated the pool
   * (one client's costly requests will do) took every replica out of rotation at once, turning
   * slow answers into none. The database being unreachable still makes the pod unready.
   */
  private probe?: Pool;

  constructor(
    private readonly registry: ReadinessRegistry,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(OPTIONS) private readonly o: ServiceKitOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.o.config.MIGRATE_ON_START && this.o.migrationsDir && this.o.config.DATABASE_URL) {
      await applyMigrations({
        databaseUrl: this.o.config.DATABASE_URL,
        migrationsDir: this.o.migrationsDir,
      });
    }
    const url = this.o.config.DATABASE_URL;
    const probe = url
      ? (this.probe = createPool(url, {
          max: 1,
          statementTimeoutMs: PROBE_TIMEOUT_MS,
          connectTimeoutMs: PROBE_TIMEOUT_MS,
        }))
      : this.pool;
    this.registry.register('database', async () => {
      await probe.query('SELECT 1');
    });
    // A service with an outbox table reports its lag (outbox_oldest_pending_age_seconds).
    const outbox = await this.pool.query<{ present: boolean }>(
      `SELECT to_regclass('outbox') IS NOT NULL AS present`,
    );
    if (outbox.rows[0]?.present) this.untrackOutbox = trackOutboxLag(this.pool);
  }

  async onApplicationShutdown(): Promise<void> {
    this.untrackOutbox?.();
    await this.probe?.end();
  }
}

/**
 * What every service has: JSON logs with request ids, /healthz, /readyz, /metrics, a NATS
 * connection drained on shutdown (unless nats: false) and a PostgreSQL pool closed last.
 */
@Module({})
export class ServiceKitModule {
  static forRoot(o: ServiceKitOptions): DynamicModule {
    const providers: Provider[] = [{ provide: OPTIONS, useValue: o }, ReadinessRegistry];
    const exported: Array<symbol | typeof ReadinessRegistry | typeof OutboxWriter> = [
      ReadinessRegistry,
    ];
    if (o.nats !== false) {
      const url = o.config.NATS_URL;
      if (!url)
        throw new Error(
          `${o.service}: NATS_URL is required unless the service is configured with nats: false`,
        );
      providers.push(
        natsProvider(() => ({
          url,
          user: o.config.NATS_USER,
          password: o.config.NATS_PASSWORD,
          name: o.service,
        })),
        NatsLifecycle,
        ReadinessWiring,
      );
      exported.push(NATS_CONNECTION);
    } else if (o.streams?.length) {
      throw new Error(
        `${o.service}: streams need NATS; the service is configured with nats: false`,
      );
    }
    if (o.database !== false) {
      const url = o.config.DATABASE_URL;
      if (!url)
        throw new Error(
          `${o.service}: DATABASE_URL is required unless the service is configured with database: false`,
        );
      providers.push(
        poolProvider(() => url, o.config.DATABASE_STATEMENT_TIMEOUT_MS, o.databaseConnectTimeoutMs),
        PoolLifecycle,
        DatabaseWiring,
        OutboxWriter,
      );
      exported.push(PG_POOL, OutboxWriter);
    }
    return {
      module: ServiceKitModule,
      global: true,
      controllers: [HealthController, MetricsController],
      providers,
      exports: exported,
    };
  }
}
