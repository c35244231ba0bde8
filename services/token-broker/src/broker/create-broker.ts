import type { NatsConnection } from '@nats-io/transport-node';
import { AuditPublisher } from '../audit/audit-publisher';
import { TokenCache } from '../cache/token-cache';
import type { FetchLike } from '../entra/token-endpoint';
import type { CertificateReader } from '../keyvault/certificate-reader';
import type { DigestSigner } from '../keyvault/key-signer';
import { BrokerMetrics } from '../metrics/broker-metrics';
import type { BrokerConfigDoc } from '../registrations/broker-config';
import { CallerPolicy } from '../registrations/caller-policy';
import type { RetryPolicy, Sleep } from './retry';
import { TokenBroker } from './token-broker';
import { TokenSource } from './token-source';

export interface BrokerParts {
  doc: BrokerConfigDoc;
  certificates: Pick<CertificateReader, 'current'>;
  signer: DigestSigner;
  authorityHost: string;
  retry: RetryPolicy;
  refreshMarginMs: number;
  /** The broker's connection: serves requests and publishes the audit events. */
  nc: NatsConnection;
  /** The connection's inbox prefix (default `_INBOX`): audit acks are received below it. */
  inboxPrefix?: string;
  metrics?: BrokerMetrics;
  fetch?: FetchLike;
  sleep?: Sleep;
  now?: () => number;
  onRefreshError?: (key: string, e: unknown) => void;
}

export interface Broker {
  broker: TokenBroker;
  cache: TokenCache;
  audit: AuditPublisher;
  policy: CallerPolicy;
  metrics: BrokerMetrics;
}

/** Wires the broker from its parts; Nest and the tests both build it this way. */
export function createBroker(p: BrokerParts): Broker {
  const metrics = p.metrics ?? new BrokerMetrics();
  const policy = new CallerPolicy(p.doc);
  const cache = new TokenCache({
    refreshMarginMs: p.refreshMarginMs,
    minRemainingMs: 30000,
    now: p.now,
    onRefreshError: (key, e) => {
      metrics.refreshFailures.inc();
      p.onRefreshError?.(key, e);
    },
  });
  const source = new TokenSource({
    certificates: p.certificates,
    signer: p.signer,
    authorityHost: p.authorityHost,
    retry: p.retry,
    metrics,
    fetch: p.fetch,
    sleep: p.sleep,
    now: p.now,
  });
  const audit = new AuditPublisher(p.nc, p.inboxPrefix ?? '_INBOX', () =>
    metrics.auditFailures.inc(),
  );
  return {
    broker: new TokenBroker(policy, cache, source, audit, metrics),
    cache,
    audit,
    policy,
    metrics,
  };
}
