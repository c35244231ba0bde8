import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { AuditRepository } from '../admin/audit.repository';
import { SCIM_CONFIG, type ScimConfig } from '../config';
import { Periodic } from '../events/periodic';
import { ProvisioningLogService } from '../provisioning-log/provisioning-log.service';
import { CleanupService } from './cleanup.service';

/**
 * The scheduled retention job: deactivated users past retention, provisioning-log rows past
 * theirs, and audit entries past SCIM_AUDIT_RETENTION_DAYS (0: kept forever).
 */
@Injectable()
export class CleanupScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly periodic: Periodic;

  constructor(
    cleanup: CleanupService,
    log: ProvisioningLogService,
    audit: AuditRepository,
    @Inject(SCIM_CONFIG) config: ScimConfig,
  ) {
    // Independent jobs: a failing one must not stop the others' retention.
    this.periodic = new Periodic('cleanup', config.SCIM_CLEANUP_INTERVAL_MS, async () => {
      const results = await Promise.allSettled([
        config.SCIM_DEACTIVATED_RETENTION_DAYS > 0
          ? cleanup.run(null, config.SCIM_CLEANUP_DRY_RUN)
          : Promise.resolve(),
        log.purgeExpired(),
        config.SCIM_AUDIT_RETENTION_DAYS > 0
          ? audit.purgeBefore(new Date(Date.now() - config.SCIM_AUDIT_RETENTION_DAYS * 86_400_000))
          : Promise.resolve(),
      ]);
      for (const r of results) if (r.status === 'rejected') throw r.reason;
    });
  }

  onApplicationBootstrap(): void {
    this.periodic.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.periodic.stop();
  }
}
