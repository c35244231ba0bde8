import { ApiProperty } from '@nestjs/swagger';
import { Beneficiary } from '@idp/contracts';
import { z } from 'zod';
import { BeneficiaryDto } from '../beneficiaries/beneficiary.dto';
import type { PolicyRecord } from './policy.repository';

const storedBeneficiaries = z.array(Beneficiary);
export type BeneficiaryList = z.infer<typeof storedBeneficiaries>;

export function beneficiariesOf(json: unknown): BeneficiaryList {
  return storedBeneficiaries.parse(json);
}

/** The representation of a policy returned by every read and write. */
export class PolicyView {
  @ApiProperty({ example: 'PN0123456789' }) policyNumber!: string;
  @ApiProperty({ description: 'Object id (oid) of the policy holder' }) holderOid!: string;
  @ApiProperty({
    description: 'Incremented by every change; the ETag is derived from it',
    example: 1,
  })
  version!: number;
  @ApiProperty({ type: [BeneficiaryDto] }) beneficiaries!: BeneficiaryList;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export function toView(p: PolicyRecord): PolicyView {
  return {
    policyNumber: p.number,
    holderOid: p.holderOid,
    version: p.version,
    beneficiaries: beneficiariesOf(p.beneficiaries),
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}

/** Strong validator of a policy version (If-Match uses strong comparison). */
export const etagOf = (version: number): string => `"v${version}"`;
