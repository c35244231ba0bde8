import { Injectable, Logger } from '@nestjs/common';
import { PolicyBeneficiariesChanged } from '@idp/contracts';
import { OutboxWriter, prismaSql } from '@idp/service-kit';
import { isDeepStrictEqual } from 'node:util';
import { randomUUID } from 'node:crypto';
import { Errors } from '../common/api-error';
import { PrismaService, type Prisma } from '../database/prisma.service';
import type { HolderIdentity } from '../identity/holder-identity';
import type { PolicyRecord } from '../policies/policy.repository';
import { beneficiariesOf, etagOf, type BeneficiaryList } from '../policies/policy.view';
import { requireMatch, type IfMatch } from './if-match';

/** Who authorised a change and how (from the step-up token). */
export interface ChangeContext {
  /** The caller's policy (undefined: none yet, so any If-Match fails). */
  policyId: string | undefined;
  /** Who makes the change. */
  holder: HolderIdentity;
  clientId?: string;
  /** B2C user flow, or `acrs:<context>` for External ID. */
  userFlow: string;
  authTime: number;
  /** The request's correlation id (its log lines' reqId; a caller's x-request-id if service-kit accepted its shape): logs and the event. */
  requestId: string;
  /** Server-generated, never the caller's: the audit history's requestId. */
  auditRequestId: string;
}

@Injectable()
export class BeneficiariesService {
  private readonly log = new Logger('beneficiaries');

  constructor(
    private readonly db: PrismaService,
    private readonly outbox: OutboxWriter,
  ) {}

  /**
   * Replaces the beneficiary list if the caller's If-Match still names the current version.
   * The conditional UPDATE (WHERE version = read version) is the concurrency guard: of two
   * writers with the same ETag exactly one updates a row, the other gets 412.
   */
  async replace(
    ctx: ChangeContext,
    ifMatch: IfMatch,
    after: BeneficiaryList,
  ): Promise<PolicyRecord> {
    const result = await this.db.$transaction(async (tx) => {
      const current = ctx.policyId
        ? await tx.policy.findUnique({ where: { id: ctx.policyId } })
        : null;
      requireMatch(ifMatch, current ? etagOf(current.version) : undefined);
      if (!current) throw Errors.preconditionFailed();
      const before = beneficiariesOf(current.beneficiaries);
      // Shown as read by the caller's identity (a linked policy's creator may be another).
      const mine = { ...current, holderOid: ctx.holder.oid };
      if (isDeepStrictEqual(before, after)) return { policy: mine, changed: false };

      const now = new Date();
      const version = current.version + 1;
      const updated = await tx.policy.updateMany({
        where: { id: current.id, version: current.version },
        data: { beneficiaries: after, version, updatedAt: now },
      });
      if (updated.count !== 1) throw Errors.preconditionFailed();
      await tx.policyHistory.create({
        data: {
          id: randomUUID(),
          policyId: current.id,
          version,
          changedAt: now,
          changedBy: ctx.holder.oid,
          changedByProvider: ctx.holder.provider,
          clientId: ctx.clientId ?? null,
          userFlow: ctx.userFlow,
          authTime: new Date(ctx.authTime * 1000),
          requestId: ctx.auditRequestId,
          before,
          after,
        },
      });
      await this.outbox.stage(prismaSql(tx), PolicyBeneficiariesChanged, {
        policyNumber: current.number,
        holderOid: ctx.holder.oid,
        policyVersion: version,
        occurredAt: now.toISOString(),
        requestId: ctx.requestId,
        userFlow: ctx.userFlow,
        authTime: ctx.authTime,
        before,
        after,
      });
      return { policy: { ...mine, beneficiaries: after, version, updatedAt: now }, changed: true };
    });
    // Ids and counts only: beneficiary names are personal data.
    if (result.changed)
      this.log.log({
        msg: 'beneficiaries changed',
        policyNumber: result.policy.number,
        version: result.policy.version,
        count: after.length,
        requestId: ctx.requestId,
        auditRequestId: ctx.auditRequestId,
      });
    return result.policy;
  }
}
