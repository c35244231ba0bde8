import { Injectable } from '@nestjs/common';
import { PolicyBeneficiariesChanged } from '@idp/contracts';
import { OutboxWriter, prismaSql, type NewEvent } from '@idp/service-kit';
import { randomUUID } from 'node:crypto';
import { PrismaService } from '../database/prisma.service';
import type { HolderIdentity } from '../identity/holder-identity';
import type { BeneficiaryList } from '../policies/policy.view';

/** A new beneficiary list for a policy, and the audit data of the change. */
export interface BeneficiaryChange {
  policyId: string;
  /** The version the change was decided on; the update happens only if it is still current. */
  fromVersion: number;
  before: BeneficiaryList;
  after: BeneficiaryList;
  at: Date;
  /** Who made the change. */
  by: HolderIdentity;
  clientId?: string;
  /** B2C user flow, or `acrs:<context>` for External ID. */
  userFlow: string;
  /** Seconds since the epoch. */
  authTime: number;
  /** Server-generated: the history's requestId. */
  auditRequestId: string;
}

/**
 * The beneficiary change as one unit: the conditional policy update, its history row and its
 * `policy.beneficiaries.changed.v1` event in the outbox, in one Prisma interactive transaction.
 */
@Injectable()
export class BeneficiariesRepository {
  constructor(
    private readonly db: PrismaService,
    private readonly outbox: OutboxWriter,
  ) {}

  /**
   * Commits the change and returns its version, or undefined (nothing written) when the
   * policy is no longer at `fromVersion`: the conditional UPDATE is the concurrency guard, of
   * two writers of one version exactly one updates a row.
   */
  async commit(
    c: BeneficiaryChange,
    event: NewEvent<typeof PolicyBeneficiariesChanged>,
  ): Promise<number | undefined> {
    const version = c.fromVersion + 1;
    return this.db.$transaction(async (tx) => {
      const updated = await tx.policy.updateMany({
        where: { id: c.policyId, version: c.fromVersion },
        data: { beneficiaries: c.after, version, updatedAt: c.at },
      });
      if (updated.count !== 1) return undefined;
      await tx.policyHistory.create({
        data: {
          id: randomUUID(),
          policyId: c.policyId,
          version,
          changedAt: c.at,
          changedBy: c.by.oid,
          changedByProvider: c.by.provider,
          clientId: c.clientId ?? null,
          userFlow: c.userFlow,
          authTime: new Date(c.authTime * 1000),
          requestId: c.auditRequestId,
          before: c.before,
          after: c.after,
        },
      });
      await this.outbox.stage(prismaSql(tx), PolicyBeneficiariesChanged, event);
      return version;
    });
  }
}
