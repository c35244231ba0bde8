import { Injectable, Logger } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import type { Caller } from './holder-identity';
import { IdentityLinkRepository } from './identity-link.repository';

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

  constructor(private readonly links: IdentityLinkRepository) {}

  /** For a caller whose identity holds no policy yet. */
  async linkFromClaim(caller: Caller): Promise<LinkOutcome> {
    const legacyOid = caller.legacyObjectId;
    if (caller.identity.provider !== 'external-id' || !legacyOid) return 'no_legacy_policy';
    const { provider, oid } = caller.identity;
    const result = await this.links.link(caller.identity, legacyOid, {
      ...(caller.clientId ? { clientId: caller.clientId } : {}),
      requestId: caller.auditRequestId,
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
