import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ApiError } from '../common/api-error';
import { PrismaService } from '../database/prisma.service';
import { B2C_TENANT, type Caller } from './holder-identity';

export type LinkOutcome = 'linked' | 'already_held' | 'no_legacy_policy';

/**
 * Links a migrated External ID identity to the policy of the B2C identity named by its
 * migration claim, once. Never by email. The identity's primary key makes concurrent first
 * requests of one user converge on one link; the unique (policy, provider, tenant) index lets
 * only one External ID identity ever hold a B2C policy, so a forged or duplicated legacy id
 * cannot take over a policy already linked: that caller gets 409 and the refusal is audited.
 */
@Injectable()
export class IdentityLinkService {
  private readonly log = new Logger('identity-link');

  constructor(private readonly db: PrismaService) {}

  /** For a caller whose identity holds no policy yet. */
  async linkFromClaim(caller: Caller): Promise<LinkOutcome> {
    const legacyOid = caller.legacyObjectId;
    if (caller.identity.provider !== 'external-id' || !legacyOid) return 'no_legacy_policy';
    const { provider, tenantId, oid } = caller.identity;
    const audit = (outcome: 'linked' | 'refused_already_linked', policyId: string) => ({
      data: {
        id: randomUUID(),
        outcome,
        provider,
        tenantId,
        oid,
        legacyOid,
        policyId,
        clientId: caller.clientId ?? null,
        requestId: caller.auditRequestId,
      },
    });

    const result = await this.db.$transaction(async (tx) => {
      const legacy = await tx.policyIdentity.findUnique({
        where: { provider_tenantId_oid: { provider: 'b2c', tenantId: B2C_TENANT, oid: legacyOid } },
      });
      if (!legacy) return { outcome: 'no_legacy_policy' as const };
      const inserted = await tx.policyIdentity.createManyAndReturn({
        data: [{ provider, tenantId, oid, policyId: legacy.policyId, linkedFrom: legacyOid }],
        skipDuplicates: true,
      });
      if (inserted.length === 1) {
        await tx.identityLinkAudit.create(audit('linked', legacy.policyId));
        return { outcome: 'linked' as const, policyId: legacy.policyId };
      }
      // ON CONFLICT waited for the other transaction; this statement sees what it committed.
      const mine = await tx.policyIdentity.findUnique({
        where: { provider_tenantId_oid: { provider, tenantId, oid } },
      });
      if (mine) return { outcome: 'already_held' as const };
      await tx.identityLinkAudit.create(audit('refused_already_linked', legacy.policyId));
      return { outcome: 'refused' as const, policyId: legacy.policyId };
    });

    // Ids only: no names or emails.
    if (result.outcome === 'linked')
      this.log.log({
        msg: 'identity linked',
        provider,
        oid,
        legacyOid,
        requestId: caller.auditRequestId,
      });
    if (result.outcome === 'refused') {
      this.log.warn({
        msg: 'identity link refused: legacy policy held by another identity',
        provider,
        oid,
        legacyOid,
        requestId: caller.auditRequestId,
      });
      throw new ApiError(
        409,
        'identity_link_conflict',
        'Your account names a former account whose policy is held by another account; contact support',
      );
    }
    return result.outcome;
  }
}
