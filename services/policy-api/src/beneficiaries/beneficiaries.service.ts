import { Inject, Injectable, Logger } from '@nestjs/common';
import { isDeepStrictEqual } from 'node:util';
import { Errors } from '../common/api-error';
import { POLICY_API_CONFIG, type PolicyApiConfig } from '../config';
import type { Caller } from '../identity/holder-identity';
import { PoliciesService } from '../policies/policies.service';
import { PolicyRepository, type PolicyRecord } from '../policies/policy.repository';
import { beneficiariesOf, etagOf, type BeneficiaryList } from '../policies/policy.view';
import { BeneficiariesRepository } from './beneficiaries.repository';
import { requireMatch, type IfMatch } from './if-match';

/** A beneficiary change as the route received it (the step-up guard already accepted the token). */
export interface ChangeRequest {
  caller: Caller;
  /** The B2C user flow of the token (`tfp`/`acr`); External ID tokens have none. */
  userFlow: string | undefined;
  /** `auth_time` of the token, seconds since the epoch. */
  authTime: number | undefined;
  /** The request's correlation id (its log lines' reqId; a caller's x-request-id if service-kit accepted its shape): logs and the event. */
  requestId: string;
}

@Injectable()
export class BeneficiariesService {
  private readonly log = new Logger('beneficiaries');
  /** The authentication context (lower-case) External ID tokens carry for a change. */
  private readonly authContext: string;

  constructor(
    private readonly policies: PoliciesService,
    private readonly policyRepo: PolicyRepository,
    private readonly changes: BeneficiariesRepository,
    @Inject(POLICY_API_CONFIG) config: PolicyApiConfig,
  ) {
    this.authContext = config.STEP_UP_AUTH_CONTEXT.toLowerCase();
  }

  /**
   * Replaces the beneficiary list of the caller's policy if the caller's If-Match still names
   * its current version. A migrated user's first write may link their B2C policy (then its ETag
   * applies). The commit is conditional on the version read here, so of two writers with the
   * same ETag exactly one changes the policy, the other gets 412. Sending the current list
   * again changes nothing (no version, history entry or event).
   */
  async replace(
    req: ChangeRequest,
    ifMatch: IfMatch,
    after: BeneficiaryList,
  ): Promise<PolicyRecord> {
    const { caller } = req;
    const held = await this.policies.findFor(caller);
    const current = held ? await this.policyRepo.findById(held.id) : undefined;
    requireMatch(ifMatch, current ? etagOf(current.version) : undefined);
    if (!current) throw Errors.preconditionFailed();
    const before = beneficiariesOf(current.beneficiaries);
    // Shown as read by the caller's identity (a linked policy's creator may be another).
    const mine = { ...current, holderOid: caller.identity.oid };
    if (isDeepStrictEqual(before, after)) return mine;

    // The step-up guard guarantees the proof and auth_time are present and acceptable.
    const userFlow =
      caller.identity.provider === 'external-id'
        ? `acrs:${this.authContext}`
        : (req.userFlow ?? 'unknown');
    // A NumericDate may carry a fraction (RFC 7519 §2); the audit row and the event hold seconds.
    const authTime = Math.floor(req.authTime ?? 0);
    const at = new Date();
    const version = await this.changes.commit(
      {
        policyId: current.id,
        fromVersion: current.version,
        before,
        after,
        at,
        by: caller.identity,
        ...(caller.clientId ? { clientId: caller.clientId } : {}),
        userFlow,
        authTime,
        auditRequestId: caller.auditRequestId,
      },
      {
        policyNumber: current.number,
        holderOid: caller.identity.oid,
        policyVersion: current.version + 1,
        occurredAt: at.toISOString(),
        requestId: req.requestId,
        userFlow,
        authTime,
        before,
        after,
      },
    );
    if (version === undefined) throw Errors.preconditionFailed();
    // Ids and counts only: beneficiary names are personal data.
    this.log.log({
      msg: 'beneficiaries changed',
      policyNumber: current.number,
      version,
      count: after.length,
      requestId: req.requestId,
      auditRequestId: caller.auditRequestId,
    });
    return { ...mine, beneficiaries: after, version, updatedAt: at };
  }
}
