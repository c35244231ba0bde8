import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';
import type { Caller } from '../identity/holder-identity';
import { PoliciesService } from '../policies/policies.service';
import { beneficiariesOf } from '../policies/policy.view';
import type { HistoryView } from './history.dto';

@Injectable()
export class HistoryService {
  constructor(
    private readonly db: PrismaService,
    private readonly policies: PoliciesService,
  ) {}

  async forCaller(caller: Caller, limit: number, beforeVersion?: number): Promise<HistoryView> {
    // No policy yet means no history; a read must not create one here (a migrated user's
    // first read may link their B2C policy, whose history then shows).
    const policy = await this.policies.findFor(caller);
    if (!policy) return { items: [] };
    const rows = await this.db.policyHistory.findMany({
      where: { policyId: policy.id, ...(beforeVersion ? { version: { lt: beforeVersion } } : {}) },
      orderBy: { version: 'desc' },
      take: limit + 1,
    });
    const page = rows.slice(0, limit);
    return {
      policyNumber: policy.number,
      items: page.map((h) => ({
        version: h.version,
        changedAt: h.changedAt.toISOString(),
        changedBy: h.changedBy,
        changedByProvider: h.changedByProvider,
        ...(h.clientId ? { clientId: h.clientId } : {}),
        userFlow: h.userFlow,
        authTime: h.authTime.toISOString(),
        requestId: h.requestId,
        before: beneficiariesOf(h.before),
        after: beneficiariesOf(h.after),
      })),
      ...(rows.length > limit ? { nextBeforeVersion: page[page.length - 1].version } : {}),
    };
  }
}
