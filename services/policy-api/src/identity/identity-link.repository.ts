import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { PrismaService } from '../database/prisma.service';
import { B2C_TENANT, type HolderIdentity } from './holder-identity';

/** What linking an identity to the policy of a legacy B2C identity did. */
export type LinkResult =
  | { outcome: 'linked'; policyId: string }
  /** A concurrent request of the same identity committed first: it holds a policy now. */
  | { outcome: 'already_held' }
  | { outcome: 'no_legacy_policy' }
  /** Another identity of this provider and tenant holds the legacy policy (audited). */
  | { outcome: 'refused'; policyId: string };

/** For the audit row: the client (`azp`) and the server-generated request id. */
export interface LinkAudit {
  clientId?: string;
  requestId: string;
}

/**
 * Identity links (`policy_identities` rows added through a migration claim) and their audit
 * (`identity_link_audit`), in one Prisma interactive transaction per attempt.
 */
@Injectable()
export class IdentityLinkRepository {
  constructor(private readonly db: PrismaService) {}

  /**
   * Adds `identity` to the policy of the B2C identity `legacyOid`, unless that policy already
   * has an identity of this provider and tenant. The identity's primary key makes concurrent
   * attempts of one identity converge (ON CONFLICT DO NOTHING waits for the other
   * transaction); the unique (policy, provider, tenant) index refuses a second identity.
   * `linked` and `refused` write an audit row in the same transaction.
   */
  async link(identity: HolderIdentity, legacyOid: string, audit: LinkAudit): Promise<LinkResult> {
    const { provider, tenantId, oid } = identity;
    const auditRow = (outcome: 'linked' | 'refused_already_linked', policyId: string) => ({
      data: {
        id: randomUUID(),
        outcome,
        provider,
        tenantId,
        oid,
        legacyOid,
        policyId,
        clientId: audit.clientId ?? null,
        requestId: audit.requestId,
      },
    });
    return this.db.$transaction(async (tx): Promise<LinkResult> => {
      const legacy = await tx.policyIdentity.findUnique({
        where: { provider_tenantId_oid: { provider: 'b2c', tenantId: B2C_TENANT, oid: legacyOid } },
      });
      if (!legacy) return { outcome: 'no_legacy_policy' };
      const inserted = await tx.policyIdentity.createManyAndReturn({
        data: [{ provider, tenantId, oid, policyId: legacy.policyId, linkedFrom: legacyOid }],
        skipDuplicates: true,
      });
      if (inserted.length === 1) {
        await tx.identityLinkAudit.create(auditRow('linked', legacy.policyId));
        return { outcome: 'linked', policyId: legacy.policyId };
      }
      // ON CONFLICT waited for the other transaction; this statement sees what it committed.
      const mine = await tx.policyIdentity.findUnique({
        where: { provider_tenantId_oid: { provider, tenantId, oid } },
      });
      if (mine) return { outcome: 'already_held' };
      await tx.identityLinkAudit.create(auditRow('refused_already_linked', legacy.policyId));
      return { outcome: 'refused', policyId: legacy.policyId };
    });
  }
}
