import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';

/** One committed beneficiary change as stored (`policy_history`). */
export interface HistoryRecord {
  version: number;
  changedAt: Date;
  changedBy: string;
  /** `b2c` or `external-id`. */
  changedByProvider: string;
  clientId: string | null;
  userFlow: string;
  authTime: Date;
  requestId: string;
  before: unknown;
  after: unknown;
}

/** The audit trail of a policy (written by BeneficiariesRepository with each change). */
@Injectable()
export class HistoryRepository {
  constructor(private readonly db: PrismaService) {}

  /** Up to `take` entries, newest first, older than `beforeVersion` when given. */
  newestFirst(
    policyId: string,
    o: { take: number; beforeVersion?: number },
  ): Promise<HistoryRecord[]> {
    return this.db.policyHistory.findMany({
      where: { policyId, ...(o.beforeVersion ? { version: { lt: o.beforeVersion } } : {}) },
      orderBy: { version: 'desc' },
      take: o.take,
      select: {
        version: true,
        changedAt: true,
        changedBy: true,
        changedByProvider: true,
        clientId: true,
        userFlow: true,
        authTime: true,
        requestId: true,
        before: true,
        after: true,
      },
    });
  }
}
