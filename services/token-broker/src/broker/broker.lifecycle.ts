import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { ReadinessRegistry } from '@idp/service-kit';
import { AuditPublisher } from '../audit/audit-publisher';
import { TokenCache } from '../cache/token-cache';
import { TOKEN_BROKER_CONFIG, type TokenBrokerConfig } from '../config';
import { CertificateReader } from '../keyvault/certificate-reader';
import { AcquireService } from '../nats/acquire-service';

export const BROKER_VERSION = '0.1.0';
const SWEEP_INTERVAL_MS = 15000;

/**
 * The running broker: Key Vault readiness (every registration's certificate read once), serving
 * `tokens.acquire` on NATS, the background refresh sweep; on shutdown, stops serving and flushes
 * the audit events still waiting for their JetStream acks.
 */
@Injectable()
export class BrokerLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('token-broker');
  private sweep?: NodeJS.Timeout;
  private keyVaultReached = false;

  constructor(
    @Inject(TOKEN_BROKER_CONFIG) private readonly c: TokenBrokerConfig,
    private readonly certificates: CertificateReader,
    private readonly cache: TokenCache,
    private readonly acquire: AcquireService,
    private readonly audit: AuditPublisher,
    private readonly readiness: ReadinessRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.c.KEY_VAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION)
      this.log.warn('KEY_VAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION is on: development only');
    // Readiness: Key Vault must have answered once (every registration's certificate read).
    this.readiness.register('keyvault', async () => {
      if (!this.keyVaultReached) throw new Error('not reached yet');
    });
    void this.probeKeyVault();
    await this.acquire.start(BROKER_VERSION);
    this.sweep = setInterval(() => void this.cache.refreshDue(), SWEEP_INTERVAL_MS);
    this.sweep.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.sweep);
    await this.acquire.stop().catch(() => undefined);
    await this.audit.close();
  }

  private async probeKeyVault(): Promise<void> {
    for (let attempt = 0; !this.keyVaultReached; attempt++) {
      try {
        for (const r of this.c.brokerDoc.registrations)
          await this.certificates.current(r.certificateName);
        this.keyVaultReached = true;
        this.log.log('Key Vault reachable; every registration certificate readable');
      } catch (e) {
        this.log.warn(`Key Vault not reachable yet: ${e instanceof Error ? e.message : 'error'}`);
        await new Promise((r) => setTimeout(r, Math.min(30000, 1000 * 2 ** attempt)).unref());
      }
    }
  }
}
