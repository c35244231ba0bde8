import { Inject, Injectable, Optional } from '@nestjs/common';
import { Counter, Histogram, register as defaultRegistry, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '../broker/broker.tokens';

/** Prometheus series of the broker (served by service-kit's /metrics from the default registry). */
@Injectable()
export class BrokerMetrics {
  readonly requests: Counter<'cache'>;
  readonly errors: Counter<'code' | 'aadsts'>;
  readonly signSeconds: Histogram;
  readonly tokenEndpointSeconds: Histogram;
  readonly upstreamRetries: Counter<'kind'>;
  readonly auditFailures: Counter;
  readonly refreshFailures: Counter;
  readonly dropped: Counter<'reason'>;
  readonly refusals: Counter<'reason'>;
  private hitCount?: Counter.Internal;

  constructor(@Optional() @Inject(METRICS_REGISTRY) registry: Registry = defaultRegistry) {
    const registers = [registry];
    this.requests = new Counter({
      name: 'token_broker_issued_total',
      help: 'Tokens handed to callers, by cache hit or miss',
      labelNames: ['cache'],
      registers,
    });
    this.errors = new Counter({
      name: 'token_broker_errors_total',
      help: 'Refused or failed token requests by error code (and AADSTS code)',
      labelNames: ['code', 'aadsts'],
      registers,
    });
    this.signSeconds = new Histogram({
      name: 'token_broker_keyvault_sign_seconds',
      help: 'Latency of Key Vault sign operations for client assertions',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.tokenEndpointSeconds = new Histogram({
      name: 'token_broker_token_endpoint_seconds',
      help: 'Latency of Entra token endpoint calls',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.upstreamRetries = new Counter({
      name: 'token_broker_upstream_retries_total',
      help: 'Retries against Key Vault or Entra, by reason',
      labelNames: ['kind'],
      registers,
    });
    this.auditFailures = new Counter({
      name: 'token_broker_audit_publish_failures_total',
      help: 'Audit events that could not be published to JetStream',
      registers,
    });
    this.refreshFailures = new Counter({
      name: 'token_broker_refresh_failures_total',
      help: 'Background refreshes of cached tokens that failed (the cached token is served until it expires)',
      registers,
    });
    this.refusals = new Counter({
      name: 'token_broker_refusals_total',
      help: 'Requests answered unauthorized, by why: unknown_registration or not_granted (callers get the same answer for both)',
      labelNames: ['reason'],
      registers,
    });
    this.dropped = new Counter({
      name: 'token_broker_requests_dropped_total',
      help: "Requests not served because their reply subject is missing or not under the caller's own inbox",
      labelNames: ['reason'],
      registers,
    });
  }

  hit(): void {
    // The label child is looked up once: inc({ cache }) hashes the label object on every call (hot path).
    (this.hitCount ??= this.requests.labels({ cache: 'hit' })).inc();
  }
  miss(): void {
    this.requests.inc({ cache: 'miss' });
  }
}

/** Measures `op` into `h` in seconds, success or failure. */
export async function timed<T>(h: Histogram, op: () => Promise<T>): Promise<T> {
  const end = h.startTimer();
  try {
    return await op();
  } finally {
    end();
  }
}
