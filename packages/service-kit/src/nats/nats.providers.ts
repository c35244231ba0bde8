import { Inject, Logger, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { connect, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';

export const NATS_CONNECTION = Symbol('NATS_CONNECTION');
export const InjectNats = (): ParameterDecorator => Inject(NATS_CONNECTION);

export interface NatsSettings {
  url: string;
  user?: string;
  password?: string;
  name: string;
}

export function natsConnectionOptions(s: NatsSettings): NodeConnectionOptions {
  return {
    servers: s.url.split(','),
    name: s.name,
    user: s.user,
    pass: s.password,
    maxReconnectAttempts: -1, // keep trying through an outage; readiness reports it meanwhile
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
    // Otherwise every request and JetStream publish captures a stack trace up front, in case it
    // times out (1-2 % of a SCIM replica's CPU); errors keep their message and code without it.
    noAsyncTraces: true,
    // A per-user inbox lets nats-server permissions keep every service out of the others'
    // replies (token replies above all): each user may subscribe to _INBOX.<user>.> only.
    ...(s.user ? { inboxPrefix: `_INBOX.${s.user}` } : {}),
  };
}

export function natsProvider(settings: () => NatsSettings): Provider {
  return {
    provide: NATS_CONNECTION,
    useFactory: async (): Promise<NatsConnection> => connect(natsConnectionOptions(settings())),
  };
}

/** Drains NATS after HTTP has stopped: in-flight handlers finish, pending publishes flush. */
export class NatsLifecycle implements OnApplicationShutdown {
  private readonly log = new Logger('nats');
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.nc.isClosed()) return;
    try {
      await this.nc.drain();
    } catch (e) {
      this.log.warn(`drain failed: ${e instanceof Error ? e.message : String(e)}`);
      await this.nc.close();
    }
  }
}
