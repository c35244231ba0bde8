import { Injectable } from '@nestjs/common';
import { OutboxWriter, prismaSql, type OutboxRow } from '@idp/service-kit';
import { AuditRepository, type Actor } from '../admin/audit.repository';
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

  countDeactivatedBefore(cutoff: Date, directoryId: string | null): Promise<number> {
    return this.db.scimUser.count({
      where: {
        active: false,
        deactivatedAt: { lt: cutoff },
        ...(directoryId ? { directoryId } : {}),
      },
    });
  }

  /**
   * Deletes one batch of users deactivated before `cutoff`, with the events `toEvents` makes of
   * them and of the groups they leave, in one transaction; each group left gets a new version and
   * lastModified (its `members` changed). Returns how many users were locked and how many deleted.
   * SKIP LOCKED: replicas running the job at once share the work instead of colliding.
   *
   * The users are locked before their groups here (the other way round from the SCIM writes,
   * which lock groups, then users), so the groups are taken with SKIP LOCKED too: the job never
   * waits while it holds user locks, hence cannot deadlock. A user in a group that is busy is left
   * for a later batch or run.
   */
  async purgeBatch(
    cutoff: Date,
    directoryId: string | null,
    limit: number,
    toEvents: (users: PurgedUser[], groups: PurgedMemberships[]) => OutboxRow[],
    actor: Actor,
  ): Promise<{ locked: number; purged: number }> {
    return this.db.$transaction(async (tx) => {
      const victims = await tx.$queryRaw<
        { id: string; directory_id: string; user_name: string; external_id: string | null }[]
      >`
        SELECT id, directory_id, user_name, external_id FROM scim_users
        WHERE active = false AND deactivated_at < ${cutoff} AND (${directoryId}::text IS NULL OR directory_id = ${directoryId})
        ORDER BY deactivated_at LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
      if (!victims.length) return { locked: 0, purged: 0 };
      const memberships = await tx.scimMembership.findMany({
        where: { userId: { in: victims.map((v) => v.id) } },
        select: {
          userId: true,
          group: { select: { id: true, directoryId: true, displayName: true, externalId: true } },
        },
      });
      const groupIds = [...new Set(memberships.map((m) => m.group.id))];
      const lockedGroups = new Set(
        groupIds.length
          ? (
              await tx.$queryRaw<{ id: string }[]>`
                SELECT id FROM scim_groups WHERE id = ANY(${groupIds}::text[])
                ORDER BY id COLLATE "C" FOR NO KEY UPDATE SKIP LOCKED`
            ).map((g) => g.id)
          : [],
      );
      const busy = new Set(
        memberships.filter((m) => !lockedGroups.has(m.group.id)).map((m) => m.userId),
      );
      const purged = victims.filter((v) => !busy.has(v.id));
      if (!purged.length) return { locked: victims.length, purged: 0 };
      const ids = purged.map((v) => v.id);
      await tx.scimUser.deleteMany({ where: { id: { in: ids } } });
      const byGroup = new Map<string, PurgedMemberships>();
      for (const m of memberships) {
        if (busy.has(m.userId)) continue;
        const entry = byGroup.get(m.group.id) ?? { group: m.group, userIds: [] };
        entry.userIds.push(m.userId);
        byGroup.set(m.group.id, entry);
      }
      if (byGroup.size)
        await tx.$executeRaw`
          UPDATE scim_groups SET version = version + 1, updated_at = now() WHERE id = ANY(${[...byGroup.keys()]}::text[])`;
      const users = purged.map((v) => ({
        id: v.id,
        directoryId: v.directory_id,
        userName: v.user_name,
        externalId: v.external_id,
      }));
      await this.outbox.write(prismaSql(tx), toEvents(users, [...byGroup.values()]));
      // One audit record per directory of the batch, with the purged ids (no names).
      const byDirectory = new Map<string, string[]>();
      for (const u of users) {
        const ids = byDirectory.get(u.directoryId) ?? [];
        ids.push(u.id);
        byDirectory.set(u.directoryId, ids);
      }
      for (const [dir, userIds] of byDirectory)
        await AuditRepository.write(tx, {
          actor,
          action: 'cleanup.purge',
          directoryId: dir,
          detail: { cutoff: cutoff.toISOString(), userIds },
        });
      return { locked: victims.length, purged: purged.length };
    });
  }
}
