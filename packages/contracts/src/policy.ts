import { z } from 'zod';
import { BENEFICIARY_NAME_MAX } from './beneficiary-name';
import { defineEvent } from './contract';

export const Relationship = z.enum([
  'spouse',
  'partner',
  'child',
  'parent',
  'sibling',
  'other-relative',
  'trust',
  'estate',
  'charity',
  'other',
]);

export const Beneficiary = z.object({
  /** 1-200 Unicode code points (NFC-normalised by the API; the full rules: beneficiary-name.ts). */
  name: z
    .string()
    .min(1)
    .refine((s) => [...s].length <= BENEFICIARY_NAME_MAX, {
      message: `at most ${BENEFICIARY_NAME_MAX} characters`,
    }),
  relationship: Relationship,
  sharePercent: z.number().int().min(1).max(100),
});

export const PolicyBeneficiariesChanged = defineEvent({
  name: 'policy.beneficiaries.changed',
  version: 1,
  stream: 'POLICY',
  description: 'A policy holder changed the beneficiaries of their policy (after step-up MFA).',
  schema: z.object({
    eventId: z.uuid(),
    policyNumber: z.string().min(1),
    /** Object id of the policy holder (never an email). */
    holderOid: z.string().min(1),
    policyVersion: z.number().int().positive(),
    occurredAt: z.iso.datetime(),
    requestId: z.string().min(1),
    userFlow: z.string().min(1),
    authTime: z.number().int().nonnegative(),
    before: z.array(Beneficiary),
    after: z.array(Beneficiary),
  }),
});
