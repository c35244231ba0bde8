import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import {
  ScimDirectoryDeleted,
  ScimGroupCreated,
  ScimGroupDeleted,
  ScimGroupUpdated,
  ScimTokenExpiring,
  ScimUserCreated,
  ScimUserDeactivated,
  ScimUserDeleted,
  ScimUserReactivated,
  ScimUserUpdated,
} from '@idp/contracts';
import { InjectNats, InjectPool, OutboxRelay } from '@idp/service-kit';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Pool } from 'pg';
import { SCIM_CONFIG, type ScimConfig } from '../config';

export const SCIM_CONTRACTS = [
  ScimUserCreated,
  ScimUserUpdated,
  ScimUserDeactivated,
  ScimUserReactivated,
  ScimUserDeleted,
  ScimGroupCreated,
  ScimGroupUpdated,
  ScimGroupDeleted,
  ScimTokenExpiring,
  ScimDirectoryDeleted,
];

/** Publishes staged events to JetStream; stops before NATS drains on shutdown. */
@Injectable()
export class OutboxRelayService implements OnApplicationBootstrap, OnModuleDestroy {
  readonly relay: OutboxRelay;

  constructor(
    @InjectPool() pool: Pool,
    @InjectNats() nc: NatsConnection,
    @Inject(SCIM_CONFIG) config: ScimConfig,
  ) {
    this.relay = new OutboxRelay({
      pool,
      js: () => jetstream(nc),
      contracts: SCIM_CONTRACTS,
      intervalMs: config.SCIM_OUTBOX_INTERVAL_MS,
    });
  }

  onApplicationBootstrap(): void {
    this.relay.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.relay.stop();
  }
}
