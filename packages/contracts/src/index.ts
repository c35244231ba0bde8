export * from './contract';
export * from './wire';
export * from './trace-context';
export * from './streams';
export * from './policy';
export * from './beneficiary-name';
export * from './scim';
export * from './tokens';
export * from './tokens-client';
import type { Contract } from './contract';
import { PolicyBeneficiariesChanged } from './policy';
import * as scim from './scim';
import { TokensAcquire, TokensIssued } from './tokens';

/** Every contract, for catalogue tests and documentation. */
export const ALL_CONTRACTS: readonly Contract[] = [
  PolicyBeneficiariesChanged,
  ...Object.values(scim),
  TokensAcquire,
  TokensIssued,
];
