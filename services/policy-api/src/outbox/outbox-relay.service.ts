import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { PolicyBeneficiariesChanged } from '@idp/contracts';
import { InjectNats, InjectPool, OutboxRelay } from '@idp/service-kit';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Pool } from 'pg';
import { POLICY_API_CONFIG, type PolicyApiConfig } from '../config';

/** Relays committed outbox rows to JetStream; retries through NATS outages. */
@Injectable()
export class OutboxRelayService implements OnApplicationBootstrap, OnModuleDestroy {
  readonly relay: OutboxRelay;

  constructor(
    @InjectPool() pool: Pool,
    @InjectNats() nc: NatsConnection,
    @Inject(POLICY_API_CONFIG) config: PolicyApiConfig,
  ) {
    this.relay = new OutboxRelay({
      pool,
      js: () => jetstream(nc),
      contracts: [PolicyBeneficiariesChanged],
      intervalMs: config.OUTBOX_INTERVAL_MS,
    });
  }

  onApplicationBootstrap(): void {
    this.relay.start();
  }

  // Before NATS drains and the pool closes (both onApplicationShutdown).
  async onModuleDestroy(): Promise<void> {
    await this.relay.stop();
  }
}
