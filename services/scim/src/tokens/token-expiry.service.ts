import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { ScimTokenExpiring } from '@idp/contracts';
import { SCIM_CONFIG, type ScimConfig } from '../config';
import { PrismaService } from '../db/prisma.service';
import { stage } from '../events/outbox-staging';
import { Periodic } from '../events/periodic';
import { scimTokenDaysLeft, scimTokensExpiring, setSoonestTokenExpiry } from '../metrics';

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
    private readonly db: PrismaService,
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

  /** Returns the tokens warned about in this pass. */
  async check(now = new Date()): Promise<ExpiringToken[]> {
    const horizon = new Date(now.getTime() + this.config.SCIM_TOKEN_WARN_DAYS * DAY);
    const expiring = await this.db.scimToken.findMany({
      where: { revokedAt: null, expiresAt: { gt: now, lte: horizon } },
      select: { id: true, directoryId: true, expiresAt: true },
    });
    const soonest = await this.db.scimToken.groupBy({
      by: ['directoryId'],
      where: { revokedAt: null, expiresAt: { gt: now } },
      _min: { expiresAt: true },
    });
    setSoonestTokenExpiry(
      new Map(
        soonest.flatMap((g) =>
          g._min.expiresAt ? [[g.directoryId, g._min.expiresAt.getTime()] as const] : [],
        ),
      ),
    );
    scimTokensExpiring.reset();
    scimTokenDaysLeft.reset();
    for (const t of expiring) {
      scimTokensExpiring.inc({ directory: t.directoryId });
      scimTokenDaysLeft.set(
        { directory: t.directoryId, token_id: t.id },
        Math.ceil((t.expiresAt.getTime() - now.getTime()) / DAY),
      );
    }
    const warned = await this.db.$transaction(async (tx) => {
      // Claiming with UPDATE ... RETURNING means one replica warns per token per day.
      const claimed = await tx.$queryRaw<
        { id: string; directory_id: string; name: string; expires_at: Date }[]
      >`
        UPDATE scim_tokens SET warned_at = ${now}
        WHERE revoked_at IS NULL AND expires_at > ${now} AND expires_at <= ${horizon}
          AND (warned_at IS NULL OR warned_at <= ${new Date(now.getTime() - DAY)})
        RETURNING id, directory_id, name, expires_at`;
      const out: ExpiringToken[] = claimed.map((c) => ({
        tokenId: c.id,
        directoryId: c.directory_id,
        name: c.name,
        expiresAt: c.expires_at.toISOString(),
        daysLeft: Math.ceil((c.expires_at.getTime() - now.getTime()) / DAY),
      }));
      for (const t of out)
        await stage(tx, ScimTokenExpiring, {
          directoryId: t.directoryId,
          tokenId: t.tokenId,
          tokenName: t.name,
          expiresAt: t.expiresAt,
          daysLeft: t.daysLeft,
        });
      return out;
    });
    for (const t of warned)
      this.log.warn(
        `SCIM token ${t.tokenId} of directory ${t.directoryId} expires in ${t.daysLeft} day(s) (${t.expiresAt})`,
      );
    return warned;
  }
}
