import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { InjectNats, natsConnectionOptions, ReadinessRegistry } from '@idp/service-kit';
import type { Service } from '@nats-io/services';
import type { NatsConnection } from '@nats-io/transport-node';
import type { TokenBrokerConfig } from '../config';
import { CertificateReader } from '../keyvault/certificate-reader';
import { createKeyVaultCredential } from '../keyvault/credential';
import { KeyVaultSigner } from '../keyvault/key-signer';
import { startAcquireService } from '../nats/acquire-service';
import { createBroker, type Broker } from './create-broker';

export const BROKER_CONFIG = Symbol('BROKER_CONFIG');
export const BROKER_VERSION = '0.1.0';
const SWEEP_INTERVAL_MS = 15000;

/** Builds the broker at boot, serves `tokens.acquire` on NATS and runs the refresh sweep. */
@Injectable()
export class BrokerLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('token-broker');
  private service?: Service;
  private sweep?: NodeJS.Timeout;
  private broker?: Broker;
  private keyVaultReached = false;

  constructor(
    @Inject(BROKER_CONFIG) private readonly c: TokenBrokerConfig,
    @InjectNats() private readonly nc: NatsConnection,
    private readonly readiness: ReadinessRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const credential = createKeyVaultCredential(this.c);
    const kv = {
      disableChallengeResourceVerification:
        this.c.KEY_VAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION,
    };
    if (kv.disableChallengeResourceVerification)
      this.log.warn('KEY_VAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION is on: development only');
    const certificates = new CertificateReader(this.c.KEY_VAULT_URL, credential, kv);
    this.broker = createBroker({
      doc: this.c.brokerDoc,
      certificates,
      signer: new KeyVaultSigner(credential, kv),
      authorityHost: this.c.ENTRA_AUTHORITY_HOST,
      retry: {
        upstreamRetries: this.c.UPSTREAM_RETRY_ATTEMPTS,
        replicationRetries: this.c.REPLICATION_RETRY_ATTEMPTS,
        baseDelayMs: this.c.RETRY_BASE_DELAY_MS,
        maxDelayMs: this.c.RETRY_MAX_DELAY_MS,
      },
      refreshMarginMs: this.c.REFRESH_MARGIN_SECONDS * 1000,
      nc: this.nc,
      // The prefix service-kit opened the connection with (per NATS user): the broker may subscribe there only.
      inboxPrefix: natsConnectionOptions({
        url: this.c.NATS_URL,
        user: this.c.NATS_USER,
        name: 'token-broker',
      }).inboxPrefix,
      onRefreshError: (_key, e) =>
        this.log.warn(
          `background refresh failed, serving the cached token meanwhile: ${e instanceof Error ? e.message : 'error'}`,
        ),
    });
    // Readiness: Key Vault must have answered once (every registration's certificate read).
    this.readiness.register('keyvault', async () => {
      if (!this.keyVaultReached) throw new Error('not reached yet');
    });
    void this.probeKeyVault(certificates);
    this.service = await startAcquireService(this.nc, this.broker.broker, BROKER_VERSION);
    this.sweep = setInterval(() => void this.broker?.cache.refreshDue(), SWEEP_INTERVAL_MS);
    this.sweep.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.sweep);
    await this.service?.stop().catch(() => undefined);
    await this.broker?.audit.close();
  }

  private async probeKeyVault(certs: CertificateReader): Promise<void> {
    for (let attempt = 0; !this.keyVaultReached; attempt++) {
      try {
        for (const r of this.c.brokerDoc.registrations) await certs.current(r.certificateName);
        this.keyVaultReached = true;
        this.log.log('Key Vault reachable; every registration certificate readable');
      } catch (e) {
        this.log.warn(`Key Vault not reachable yet: ${e instanceof Error ? e.message : 'error'}`);
        await new Promise((r) => setTimeout(r, Math.min(30000, 1000 * 2 ** attempt)).unref());
      }
    }
  }
}
