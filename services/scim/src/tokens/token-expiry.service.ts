import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { ScimTokenExpiring } from '@idp/contracts';
import { OutboxWriter } from '@idp/service-kit';
import { SCIM_CONFIG, type ScimConfig } from '../config';
import { Periodic } from '../events/periodic';
import { scimTokenDaysLeft, scimTokensExpiring, setSoonestTokenExpiry } from '../metrics';
import { TokensRepository, type ClaimedToken } from './tokens.repository';

const DAY = 86_400_000;

export interface ExpiringToken {
  tokenId: string;
  directoryId: string;
  name: string;
  expiresAt: string;
  daysLeft: number;
}

/** Warns (log + metric + NATS event via the outbox) about tokens expiring within SCIM_TOKEN_WARN_DAYS, at most daily per token. */
@Injectable()
export class TokenExpiryService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('token-expiry');
  private readonly periodic: Periodic;

  constructor(
    private readonly repo: TokensRepository,
    private readonly outbox: OutboxWriter,
    @Inject(SCIM_CONFIG) private readonly config: ScimConfig,
  ) {
    this.periodic = new Periodic('token-expiry', config.SCIM_TOKEN_CHECK_INTERVAL_MS, () =>
      this.check(),
    );
  }

  onApplicationBootstrap(): void {
    this.periodic.start(1000);
  }

  async onModuleDestroy(): Promise<void> {
    await this.periodic.stop();
  }

  /**
   * Sets the token gauges from the database. Besides every check, TokensService calls it after a
   * token is created or revoked, so a replaced token stops counting as expiring at once (in this
   * replica; others at their next check) instead of keeping an alert firing for up to an interval.
   */
  async refreshMetrics(now = new Date()): Promise<void> {
    const horizon = new Date(now.getTime() + this.config.SCIM_TOKEN_WARN_DAYS * DAY);
    const [expiring, soonest] = await Promise.all([
      this.repo.expiringBetween(now, horizon),
      this.repo.soonestExpiryByDirectory(now),
    ]);
    setSoonestTokenExpiry(soonest);
    scimTokensExpiring.reset();
    scimTokenDaysLeft.reset();
    for (const t of expiring) {
      scimTokensExpiring.inc({ directory: t.directoryId });
      scimTokenDaysLeft.set(
        { directory: t.directoryId, token_id: t.id },
        Math.ceil((t.expiresAt.getTime() - now.getTime()) / DAY),
      );
    }
  }

  /** Returns the tokens warned about in this pass. */
  async check(now = new Date()): Promise<ExpiringToken[]> {
    const horizon = new Date(now.getTime() + this.config.SCIM_TOKEN_WARN_DAYS * DAY);
    await this.refreshMetrics(now);
    const view = (c: ClaimedToken): ExpiringToken => ({
      tokenId: c.id,
      directoryId: c.directoryId,
      name: c.name,
      expiresAt: c.expiresAt.toISOString(),
      daysLeft: Math.ceil((c.expiresAt.getTime() - now.getTime()) / DAY),
    });
    const claimed = await this.repo.claimExpiryWarnings(
      now,
      horizon,
      new Date(now.getTime() - DAY),
      (tokens) =>
        tokens.map(view).map((t) =>
          this.outbox.row(ScimTokenExpiring, {
            directoryId: t.directoryId,
            tokenId: t.tokenId,
            tokenName: t.name,
            expiresAt: t.expiresAt,
            daysLeft: t.daysLeft,
          }),
        ),
    );
    const warned = claimed.map(view);
    for (const t of warned)
      this.log.warn(
        `SCIM token ${t.tokenId} of directory ${t.directoryId} expires in ${t.daysLeft} day(s) (${t.expiresAt})`,
      );
    return warned;
  }
}
