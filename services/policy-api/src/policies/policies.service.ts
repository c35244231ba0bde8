import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { newPolicyNumber } from './policy-number';
import { PolicyRepository, type PolicyRecord } from './policy.repository';

@Injectable()
export class PoliciesService {
  constructor(private readonly repo: PolicyRepository) {}

  /**
   * The caller's policy, created on first read. The unique holder_oid decides between
   * concurrent first reads: exactly one INSERT wins (created: true), the others read the
   * winner's row.
   */
  async findOrCreate(holderOid: string): Promise<{ policy: PolicyRecord; created: boolean }> {
    const existing = await this.repo.findByHolder(holderOid);
    if (existing) return { policy: existing, created: false };
    for (let attempt = 0; attempt < 5; attempt++) {
      const created = await this.repo.insertIfAbsent({ id: randomUUID(), number: newPolicyNumber(), holderOid });
      if (created) return { policy: created, created: true };
      const winner = await this.repo.findByHolder(holderOid);
      if (winner) return { policy: winner, created: false };
      // Neither inserted nor present: the random number collided with another policy; draw again.
    }
    throw new Error('could not allocate a unique policy number');
  }

  async findByHolder(holderOid: string): Promise<PolicyRecord | undefined> {
    return this.repo.findByHolder(holderOid);
  }

  async findByNumber(number: string): Promise<PolicyRecord | undefined> {
    return this.repo.findByNumber(number);
  }
}
