import { Injectable } from '@nestjs/common';
import { OutboxWriter, prismaSql, type OutboxRow } from '@idp/service-kit';
import { PrismaService } from '../db/prisma.service';

/** A user purged by the retention job. */
export interface PurgedUser {
  id: string;
  directoryId: string;
  userName: string;
  externalId: string | null;
}

/** A group that lost members in a purge, and which of them. */
export interface PurgedMemberships {
  group: { id: string; directoryId: string; displayName: string; externalId: string | null };
  userIds: string[];
}

/**
 * The retention job's access to scim_users (Prisma: a background batch job, not a SCIM hot path).
 */
@Injectable()
export class CleanupRepository {
  constructor(
    private readonly db: PrismaService,
    private readonly outbox: OutboxWriter,
  ) {}

  /** Users deactivated before `cutoff` (in one directory, or all), oldest first, at most `limit`. */
  deactivatedBefore(
    cutoff: Date,
    directoryId: string | null,
    limit: number,
  ): Promise<{ id: string; directoryId: string; deactivatedAt: Date | null }[]> {
    return this.db.scimUser.findMany({
      where: {
        active: false,
        deactivatedAt: { lt: cutoff },
        ...(directoryId ? { directoryId } : {}),
      },
      select: { id: true, directoryId: true, deactivatedAt: true },
      orderBy: { deactivatedAt: 'asc' },
      take: limit,
    });
  }

  /**
   * Deletes one batch of users deactivated before `cutoff`, with the events `toEvents` makes of
   * them and of the groups they leave, in one transaction; returns how many were deleted.
   * SKIP LOCKED: replicas running the job at once share the work instead of colliding.
   */
  async purgeBatch(
    cutoff: Date,
    directoryId: string | null,
    limit: number,
    toEvents: (users: PurgedUser[], groups: PurgedMemberships[]) => OutboxRow[],
  ): Promise<number> {
    return this.db.$transaction(async (tx) => {
      const victims = await tx.$queryRaw<
        { id: string; directory_id: string; user_name: string; external_id: string | null }[]
      >`
        SELECT id, directory_id, user_name, external_id FROM scim_users
        WHERE active = false AND deactivated_at < ${cutoff} AND (${directoryId}::text IS NULL OR directory_id = ${directoryId})
        ORDER BY deactivated_at LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
      if (!victims.length) return 0;
      const ids = victims.map((v) => v.id);
      const memberships = await tx.scimMembership.findMany({
        where: { userId: { in: ids } },
        select: {
          userId: true,
          group: { select: { id: true, directoryId: true, displayName: true, externalId: true } },
        },
      });
      await tx.scimUser.deleteMany({ where: { id: { in: ids } } });
      const byGroup = new Map<string, PurgedMemberships>();
      for (const m of memberships) {
        const entry = byGroup.get(m.group.id) ?? { group: m.group, userIds: [] };
        entry.userIds.push(m.userId);
        byGroup.set(m.group.id, entry);
      }
      const users = victims.map((v) => ({
        id: v.id,
        directoryId: v.directory_id,
        userName: v.user_name,
        externalId: v.external_id,
      }));
      await this.outbox.write(prismaSql(tx), toEvents(users, [...byGroup.values()]));
      return victims.length;
    });
  }
}
