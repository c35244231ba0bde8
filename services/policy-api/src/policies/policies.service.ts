import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Caller } from '../identity/holder-identity';
import { IdentityLinkService } from '../identity/identity-link.service';
import { newPolicyNumber } from './policy-number';
import { PolicyRepository, type PolicyRecord } from './policy.repository';

@Injectable()
export class PoliciesService {
  constructor(
    private readonly repo: PolicyRepository,
    private readonly links: IdentityLinkService,
  ) {}

  /**
   * The caller's policy, if any. A migrated External ID user without one is first linked to
   * the policy of the B2C identity their migration claim names (once; 409 if another identity
   * holds it). Never creates a policy.
   */
  async findFor(caller: Caller): Promise<PolicyRecord | undefined> {
    const held = await this.repo.findByIdentity(caller.identity);
    if (held || !caller.legacyObjectId) return held;
    const outcome = await this.links.linkFromClaim(caller);
    return outcome === 'no_legacy_policy' ? undefined : this.repo.findByIdentity(caller.identity);
  }

  /**
   * The caller's policy, created on first read. The identity's primary key decides between
   * concurrent first reads: exactly one creation commits (created: true), the others read the
   * winner's policy.
   */
  async findOrCreate(caller: Caller): Promise<{ policy: PolicyRecord; created: boolean }> {
    const existing = await this.findFor(caller);
    if (existing) return { policy: existing, created: false };
    for (let attempt = 0; attempt < 5; attempt++) {
      const created = await this.repo.createFor(caller.identity, {
        id: randomUUID(),
        number: newPolicyNumber(),
      });
      if (typeof created !== 'string') return { policy: created, created: true };
      if (created === 'identity_taken') {
        const winner = await this.repo.findByIdentity(caller.identity);
        if (winner) return { policy: winner, created: false };
      }
      // The random number collided with another policy; draw again.
    }
    throw new Error('could not allocate a unique policy number');
  }

  async findByNumber(number: string): Promise<PolicyRecord | undefined> {
    return this.repo.findByNumber(number);
  }
}
