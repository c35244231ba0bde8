import { Injectable } from '@nestjs/common';
import { OutboxWriter, prismaSql, type OutboxRow } from '@idp/service-kit';
import { AuditRepository, type Actor } from '../admin/audit.repository';
import { PrismaService } from '../db/prisma.service';
import type { ScimToken } from '../generated/prisma/client';
import { notifyInvalidation } from './token-invalidation';

/** A token claimed for an expiry warning. */
export interface ClaimedToken {
  id: string;
  directoryId: string;
  name: string;
  expiresAt: Date;
}

/**
 * scim_tokens (Prisma: token lookups are cached by TokensService, so they are off the hot path).
 */
@Injectable()
export class TokensRepository {
  constructor(
    private readonly db: PrismaService,
    private readonly outbox: OutboxWriter,
  ) {}

  /**
   * Creates the token (and its audit record) unless the directory already has `cap(maxTokens)`
   * live (unrevoked, unexpired) ones; `missing` when the directory does not exist (it is never
   * created here: a misspelt id is an error, not a new directory). The directory row is locked
   * (FOR NO KEY UPDATE, so SCIM writes' foreign-key checks do not wait) while counting and
   * inserting: two creations at the cap at once cannot both pass the count.
   */
  async createWithinCap(
    t: {
      id: string;
      directoryId: string;
      name: string;
      hash: string;
      createdAt: Date;
      expiresAt: Date;
    },
    cap: (maxTokens: number | null) => number,
    actor: Actor,
  ): Promise<{ created: ScimToken } | { live: number; cap: number } | { missing: true }> {
    return this.db.$transaction(async (tx) => {
      const [dir] = await tx.$queryRaw<{ max_tokens: number | null }[]>`
        SELECT max_tokens FROM directories WHERE id = ${t.directoryId} FOR NO KEY UPDATE`;
      if (!dir) return { missing: true as const };
      const limit = cap(dir.max_tokens);
      const live = await tx.scimToken.count({
        where: { directoryId: t.directoryId, revokedAt: null, expiresAt: { gt: t.createdAt } },
      });
      if (live >= limit) return { live, cap: limit };
      const created = await tx.scimToken.create({ data: t });
      await AuditRepository.write(tx, {
        actor,
        action: 'token.create',
        directoryId: t.directoryId,
        targetId: t.id,
        detail: { expiresAt: t.expiresAt.toISOString() },
      });
      return { created };
    });
  }

  listByDirectory(directoryId: string): Promise<ScimToken[]> {
    return this.db.scimToken.findMany({ where: { directoryId }, orderBy: { createdAt: 'asc' } });
  }

  findInDirectory(directoryId: string, id: string): Promise<ScimToken | null> {
    return this.db.scimToken.findFirst({ where: { id, directoryId } });
  }

  findByHash(hash: string): Promise<ScimToken | null> {
    return this.db.scimToken.findUnique({ where: { hash } });
  }

  /**
   * Revokes the token unless it is revoked already (a concurrent revoke keeps the first time and
   * the first audit record), and announces it to every replica when the revocation commits.
   */
  async revoke(id: string, at: Date, actor: Actor): Promise<ScimToken | null> {
    return this.db.$transaction(async (tx) => {
      const { count } = await tx.scimToken.updateMany({
        where: { id, revokedAt: null },
        data: { revokedAt: at },
      });
      const row = await tx.scimToken.findUnique({ where: { id } });
      if (count > 0 && row) {
        await AuditRepository.write(tx, {
          actor,
          action: 'token.revoke',
          directoryId: row.directoryId,
          targetId: id,
        });
        await notifyInvalidation(tx, { tokenId: id });
      }
      return row;
    });
  }

  async touch(id: string, at: Date): Promise<void> {
    await this.db.scimToken.update({ where: { id }, data: { lastUsedAt: at } });
  }

  /** Unrevoked tokens expiring in (now, horizon]. */
  expiringBetween(
    now: Date,
    horizon: Date,
  ): Promise<{ id: string; directoryId: string; expiresAt: Date }[]> {
    return this.db.scimToken.findMany({
      where: { revokedAt: null, expiresAt: { gt: now, lte: horizon } },
      select: { id: true, directoryId: true, expiresAt: true },
    });
  }

  /**
   * Per directory, the soonest expiry of its live tokens (ms since the epoch); for a directory
   * whose unrevoked tokens have all expired, the last of those expiries (in the past). A directory
   * must not drop out of the expiry gauge when its last token lapses: the alert on it would clear
   * at the moment provisioning stops. Revoking every token is deliberate and does drop it.
   */
  async soonestExpiryByDirectory(now: Date): Promise<Map<string, number>> {
    const [live, unrevoked] = await Promise.all([
      this.db.scimToken.groupBy({
        by: ['directoryId'],
        where: { revokedAt: null, expiresAt: { gt: now } },
        _min: { expiresAt: true },
      }),
      this.db.scimToken.groupBy({
        by: ['directoryId'],
        where: { revokedAt: null },
        _max: { expiresAt: true },
      }),
    ]);
    const out = new Map<string, number>();
    for (const g of unrevoked)
      if (g._max.expiresAt) out.set(g.directoryId, g._max.expiresAt.getTime());
    for (const g of live) if (g._min.expiresAt) out.set(g.directoryId, g._min.expiresAt.getTime());
    return out;
  }

  /**
   * Claims the tokens expiring in (now, horizon] not warned about since `warnedBefore`, marking
   * them warned, and stages the events `toEvents` makes of them, in one transaction. Claiming with
   * UPDATE ... RETURNING means one replica warns per token per period.
   */
  async claimExpiryWarnings(
    now: Date,
    horizon: Date,
    warnedBefore: Date,
    toEvents: (claimed: ClaimedToken[]) => OutboxRow[],
  ): Promise<ClaimedToken[]> {
    return this.db.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<
        { id: string; directory_id: string; name: string; expires_at: Date }[]
      >`
        UPDATE scim_tokens SET warned_at = ${now}
        WHERE revoked_at IS NULL AND expires_at > ${now} AND expires_at <= ${horizon}
          AND (warned_at IS NULL OR warned_at <= ${warnedBefore})
        RETURNING id, directory_id, name, expires_at`;
      const claimed = rows.map((r) => ({
        id: r.id,
        directoryId: r.directory_id,
        name: r.name,
        expiresAt: r.expires_at,
      }));
      await this.outbox.write(prismaSql(tx), toEvents(claimed));
      return claimed;
    });
  }
}
