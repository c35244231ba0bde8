import { Injectable } from '@nestjs/common';
import type { Caller } from '../identity/holder-identity';
import { PoliciesService } from '../policies/policies.service';
import { beneficiariesOf } from '../policies/policy.view';
import type { HistoryView } from './history.dto';
import { HistoryRepository } from './history.repository';

@Injectable()
export class HistoryService {
  constructor(
    private readonly history: HistoryRepository,
    private readonly policies: PoliciesService,
  ) {}

  async forCaller(caller: Caller, limit: number, beforeVersion?: number): Promise<HistoryView> {
    // No policy yet means no history; a read must not create one here (a migrated user's
    // first read may link their B2C policy, whose history then shows).
    const policy = await this.policies.findFor(caller);
    if (!policy) return { items: [] };
    // One more than asked tells whether another page follows.
    const rows = await this.history.newestFirst(policy.id, {
      take: limit + 1,
      ...(beforeVersion ? { beforeVersion } : {}),
    });
    const page = rows.slice(0, limit);
    const last = rows.length > limit ? page.at(-1) : undefined;
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
      ...(last ? { nextBeforeVersion: last.version } : {}),
    };
  }
}
