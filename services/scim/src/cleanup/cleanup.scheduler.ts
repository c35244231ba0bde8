import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { SCIM_CONFIG, type ScimConfig } from '../config';
import { Periodic } from '../events/periodic';
import { ProvisioningLogService } from '../provisioning-log/provisioning-log.service';
import { CleanupService } from './cleanup.service';

/** The scheduled retention job: deactivated users past retention, and provisioning-log rows past theirs. */
@Injectable()
export class CleanupScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly periodic: Periodic;

  constructor(
    cleanup: CleanupService,
    log: ProvisioningLogService,
    @Inject(SCIM_CONFIG) config: ScimConfig,
  ) {
    // Two independent jobs: a failing user purge must not stop the log's retention, or the reverse.
    this.periodic = new Periodic('cleanup', config.SCIM_CLEANUP_INTERVAL_MS, async () => {
      const [users, logs] = await Promise.allSettled([
        config.SCIM_DEACTIVATED_RETENTION_DAYS > 0
          ? cleanup.run(null, config.SCIM_CLEANUP_DRY_RUN)
          : Promise.resolve(),
        log.purgeExpired(),
      ]);
      for (const r of [users, logs]) if (r.status === 'rejected') throw r.reason;
    });
  }

  onApplicationBootstrap(): void {
    this.periodic.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.periodic.stop();
  }
}
