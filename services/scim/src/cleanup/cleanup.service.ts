import { Inject, Injectable, Logger } from '@nestjs/common';
import { ScimGroupUpdated, ScimUserDeleted } from '@idp/contracts';
import { SCIM_CONFIG, type ScimConfig } from '../config';
import { PrismaService } from '../db/prisma.service';
import { stage } from '../events/outbox-staging';
import { scimUsersPurged } from '../metrics';

export interface CleanupReport {
  dryRun: boolean;
  directoryId: string | null;
  retentionDays: number;
  cutoff: string;
  /** Users deactivated before the cutoff (ids only: no personal data in reports or logs). */
  candidates: { id: string; directoryId: string; deactivatedAt: string }[];
  purged: number;
}

const BATCH = 500;
const REPORT_IDS = 1000;

/** Purges users deactivated for longer than SCIM_DEACTIVATED_RETENTION_DAYS, reporting them first. */
@Injectable()
export class CleanupService {
  private readonly log = new Logger('cleanup');

  constructor(
    private readonly db: PrismaService,
    @Inject(SCIM_CONFIG) private readonly config: ScimConfig,
  ) {}

  private cutoff(now: Date): Date {
    return new Date(now.getTime() - this.config.SCIM_DEACTIVATED_RETENTION_DAYS * 86_400_000);
  }

  /** The dry-run report: who would be purged now. */
  async report(directoryId: string | null, now = new Date()): Promise<CleanupReport> {
    const cutoff = this.cutoff(now);
    const rows = await this.db.scimUser.findMany({
      where: {
        active: false,
        deactivatedAt: { lt: cutoff },
        ...(directoryId ? { directoryId } : {}),
      },
      select: { id: true, directoryId: true, deactivatedAt: true },
      orderBy: { deactivatedAt: 'asc' },
      take: REPORT_IDS,
    });
    return {
      dryRun: true,
      directoryId,
      retentionDays: this.config.SCIM_DEACTIVATED_RETENTION_DAYS,
      cutoff: cutoff.toISOString(),
      candidates: rows.map((r) => ({
        id: r.id,
        directoryId: r.directoryId,
        deactivatedAt: (r.deactivatedAt as Date).toISOString(),
      })),
      purged: 0,
    };
  }

  /** Reports, then (unless dry-run) purges in batches; each batch deletes and stages its events atomically. */
  async run(directoryId: string | null, dryRun: boolean, now = new Date()): Promise<CleanupReport> {
    const report = await this.report(directoryId, now);
    this.log.log(
      `cleanup ${dryRun ? 'dry-run' : 'run'}: ${report.candidates.length} user(s) deactivated before ${report.cutoff}${directoryId ? ` in ${directoryId}` : ''}`,
    );
    if (dryRun || this.config.SCIM_DEACTIVATED_RETENTION_DAYS === 0) return report;
    const cutoff = this.cutoff(now);
    let purged = 0;
    for (;;) {
      const n = await this.db.$transaction(async (tx) => {
        // SKIP LOCKED: replicas running the job at once share the work instead of colliding.
        const victims = await tx.$queryRaw<
          { id: string; directory_id: string; user_name: string; external_id: string | null }[]
        >`
          SELECT id, directory_id, user_name, external_id FROM scim_users
          WHERE active = false AND deactivated_at < ${cutoff} AND (${directoryId}::text IS NULL OR directory_id = ${directoryId})
          ORDER BY deactivated_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`;
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
        for (const v of victims) {
          await stage(tx, ScimUserDeleted, {
            directoryId: v.directory_id,
            userId: v.id,
            externalId: v.external_id,
            userName: v.user_name,
            active: false,
          });
        }
        const byGroup = new Map<
          string,
          { g: (typeof memberships)[number]['group']; users: string[] }
        >();
        for (const m of memberships)
          byGroup.set(m.group.id, {
            g: m.group,
            users: [...(byGroup.get(m.group.id)?.users ?? []), m.userId],
          });
        for (const { g, users } of byGroup.values()) {
          await stage(tx, ScimGroupUpdated, {
            directoryId: g.directoryId,
            groupId: g.id,
            externalId: g.externalId,
            displayName: g.displayName,
            membersAdded: [],
            membersRemoved: users,
          });
        }
        return victims.length;
      });
      purged += n;
      if (n < BATCH) break;
    }
    scimUsersPurged.inc(purged);
    this.log.log(`cleanup purged ${purged} user(s)`);
    return { ...report, dryRun: false, purged };
  }
}
