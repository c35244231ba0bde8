/** Customer identity providers whose users hold policies (Entra app-only tokens never do). */
export type HolderProvider = 'b2c' | 'external-id';

/**
 * Who holds a policy: provider kind + tenant + object id. B2C identities use tenantId ''
 * (policy-api trusts one B2C tenant, whose tokens carry no `tid`); External ID ones the
 * external tenant's id, lower-case.
 */
export interface HolderIdentity {
  readonly provider: HolderProvider;
  readonly tenantId: string;
  readonly oid: string;
}

export const B2C_TENANT = '';

/** The signed-in caller as the policy routes see them. */
export interface Caller {
  readonly identity: HolderIdentity;
  /**
   * External ID only: the former B2C object id from the migration claim (a GUID, lower-case).
   * Used once, to link this identity to that B2C identity's policy.
   */
  readonly legacyObjectId?: string;
  /** `azp` of the token, for audit records. */
  readonly clientId?: string;
  /** Server-generated request id (never the caller's x-request-id), for audit records. */
  readonly auditRequestId: string;
}

/** Batching / map key of an identity, and back. */
export const identityKey = (i: HolderIdentity): string =>
  JSON.stringify([i.provider, i.tenantId, i.oid]);
export const identityOfKey = (key: string): HolderIdentity => {
  const [provider, tenantId, oid] = JSON.parse(key) as [HolderIdentity['provider'], string, string];
  return { provider, tenantId, oid };
};
