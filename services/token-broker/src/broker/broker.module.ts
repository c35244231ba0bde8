import { type DynamicModule, Logger, Module } from '@nestjs/common';
import { natsConnectionOptions } from '@idp/service-kit';
import { register } from 'prom-client';
import { AuditPublisher } from '../audit/audit-publisher';
import { TokenCache, type CacheOptions } from '../cache/token-cache';
import { TOKEN_BROKER_CONFIG, type TokenBrokerConfig } from '../config';
import type { FetchLike } from '../entra/token-endpoint';
import { CertificateReader } from '../keyvault/certificate-reader';
import { createKeyVaultCredential } from '../keyvault/credential';
import { KeyVaultSigner } from '../keyvault/key-signer';
import { BrokerMetrics } from '../metrics/broker-metrics';
import { AcquireService } from '../nats/acquire-service';
import { CallerPolicy } from '../registrations/caller-policy';
import {
  AUDIT_INBOX_PREFIX,
  CLOCK,
  ENTRA_FETCH,
  KEY_VAULT_CREDENTIAL,
  METRICS_REGISTRY,
  RETRY_POLICY,
  SLEEP,
  TOKEN_CACHE_OPTIONS,
} from './broker.tokens';
import { realSleep, type RetryPolicy } from './retry';
import { TokenBroker } from './token-broker';
import { TokenSource } from './token-source';

/** A cached token this close to expiry is not handed out. */
const MIN_REMAINING_MS = 30_000;

/**
 * The broker's providers: policy check → token cache → token source (assertion signed in Key
 * Vault → Entra token endpoint) → audit, served on NATS by AcquireService. The NATS connection
 * comes from service-kit (global); the lifecycle (serving, refresh sweep, readiness) is the app's.
 */
@Module({})
export class BrokerModule {
  static forRoot(config: TokenBrokerConfig): DynamicModule {
    const log = new Logger('token-broker');
    return {
      module: BrokerModule,
      providers: [
        { provide: TOKEN_BROKER_CONFIG, useValue: config },
        { provide: CLOCK, useValue: Date.now },
        { provide: SLEEP, useValue: realSleep },
        { provide: ENTRA_FETCH, useValue: ((url, init) => fetch(url, init)) satisfies FetchLike },
        { provide: METRICS_REGISTRY, useValue: register },
        {
          // Workload identity on the cluster, the developer chain on a laptop (AZURE_CREDENTIAL).
          provide: KEY_VAULT_CREDENTIAL,
          useFactory: () => createKeyVaultCredential(config),
        },
        {
          provide: RETRY_POLICY,
          useFactory: (): RetryPolicy => ({
            upstreamRetries: config.UPSTREAM_RETRY_ATTEMPTS,
            replicationRetries: config.REPLICATION_RETRY_ATTEMPTS,
            baseDelayMs: config.RETRY_BASE_DELAY_MS,
            maxDelayMs: config.RETRY_MAX_DELAY_MS,
          }),
        },
        {
          provide: TOKEN_CACHE_OPTIONS,
          inject: [CLOCK, BrokerMetrics],
          useFactory: (now: () => number, metrics: BrokerMetrics): CacheOptions => ({
            refreshMarginMs: config.REFRESH_MARGIN_SECONDS * 1000,
            minRemainingMs: MIN_REMAINING_MS,
            now,
            onRefreshError: (_key, e) => {
              metrics.refreshFailures.inc();
              log.warn(
                `background refresh failed, serving the cached token meanwhile: ${e instanceof Error ? e.message : 'error'}`,
              );
            },
          }),
        },
        {
          // The prefix service-kit opened the connection with (per NATS user): the broker may subscribe there only.
          provide: AUDIT_INBOX_PREFIX,
          useFactory: () =>
            natsConnectionOptions({
              url: config.NATS_URL,
              user: config.NATS_USER,
              name: 'token-broker',
            }).inboxPrefix ?? '_INBOX',
        },
        BrokerMetrics,
        CallerPolicy,
        CertificateReader,
        KeyVaultSigner,
        TokenCache,
        TokenSource,
        AuditPublisher,
        TokenBroker,
        AcquireService,
      ],
      exports: [
        TOKEN_BROKER_CONFIG,
        BrokerMetrics,
        CallerPolicy,
        CertificateReader,
        TokenCache,
        AuditPublisher,
        TokenBroker,
        AcquireService,
      ],
    };
  }
}
