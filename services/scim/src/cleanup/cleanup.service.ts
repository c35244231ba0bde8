import { Inject, Injectable, Logger } from '@nestjs/common';
import { ScimGroupUpdated, ScimUserDeleted } from '@idp/contracts';
import { OutboxWriter } from '@idp/service-kit';
import type { Actor } from '../admin/audit.repository';
import { SCIM_CONFIG, type ScimConfig } from '../config';
import { scimUsersPurged } from '../metrics';
import { CleanupRepository } from './cleanup.repository';

export interface CleanupReport {
  dryRun: boolean;
  directoryId: string | null;
  /** 0: purging is disabled (no cutoff, no candidates). */
  retentionDays: number;
  cutoff: string | null;
  /** How many users were deactivated before the cutoff. */
  candidateCount: number;
  /** The first REPORT_IDS of them, oldest first (ids only: no personal data in reports or logs). */
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
    private readonly repo: CleanupRepository,
    private readonly outbox: OutboxWriter,
    @Inject(SCIM_CONFIG) private readonly config: ScimConfig,
  ) {}

  private cutoff(now: Date): Date {
    return new Date(now.getTime() - this.config.SCIM_DEACTIVATED_RETENTION_DAYS * 86_400_000);
  }

  /** The dry-run report: who would be purged now (nobody when retention is 0, i.e. disabled). */
  async report(directoryId: string | null, now = new Date()): Promise<CleanupReport> {
    const retentionDays = this.config.SCIM_DEACTIVATED_RETENTION_DAYS;
    if (retentionDays === 0)
      return {
        dryRun: true,
        directoryId,
        retentionDays,
        cutoff: null,
        candidateCount: 0,
        candidates: [],
        purged: 0,
      };
    const cutoff = this.cutoff(now);
    const [rows, candidateCount] = await Promise.all([
      this.repo.deactivatedBefore(cutoff, directoryId, REPORT_IDS),
      this.repo.countDeactivatedBefore(cutoff, directoryId),
    ]);
    return {
      dryRun: true,
      directoryId,
      retentionDays,
      cutoff: cutoff.toISOString(),
      candidateCount,
      candidates: rows.map((r) => ({
        id: r.id,
        directoryId: r.directoryId,
        deactivatedAt: (r.deactivatedAt ?? cutoff).toISOString(),
      })),
      purged: 0,
    };
  }

  /** Reports, then (unless dry-run) purges in batches; each batch deletes and stages its events atomically. */
  async run(
    directoryId: string | null,
    dryRun: boolean,
    now = new Date(),
    actor: Actor = 'system:cleanup',
  ): Promise<CleanupReport> {
    const report = await this.report(directoryId, now);
    if (report.cutoff === null) return { ...report, dryRun };
    this.log.log(
      `cleanup ${dryRun ? 'dry-run' : 'run'}: ${report.candidateCount} user(s) deactivated before ${report.cutoff}${directoryId ? ` in ${directoryId}` : ''}`,
    );
    if (dryRun) return report;
    const cutoff = this.cutoff(now);
    let purged = 0;
    for (;;) {
      const batch = await this.repo.purgeBatch(
        cutoff,
        directoryId,
        BATCH,
        (users, groups) => [
          ...users.map((u) =>
            this.outbox.row(ScimUserDeleted, {
              directoryId: u.directoryId,
              userId: u.id,
              externalId: u.externalId,
              userName: u.userName,
              active: false,
            }),
          ),
          ...groups.map(({ group: g, userIds }) =>
            this.outbox.row(ScimGroupUpdated, {
              directoryId: g.directoryId,
              groupId: g.id,
              externalId: g.externalId,
              displayName: g.displayName,
              membersAdded: [],
              membersRemoved: userIds,
            }),
          ),
        ],
        actor,
      );
      purged += batch.purged;
      // Users whose groups were busy stay for the next run; a batch that purged none would repeat.
      if (batch.locked < BATCH || batch.purged === 0) break;
    }
    scimUsersPurged.inc(purged);
    this.log.log(`cleanup purged ${purged} user(s)`);
    return { ...report, dryRun: false, purged };
  }
}
