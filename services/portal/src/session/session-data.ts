// What a browser session holds. Stored encrypted (session-cipher.ts); never sent to the browser.

/** Authorization requests in flight per session (the oldest goes first). */
export const MAX_PENDING = 8;

export type AuthPurpose = 'signin' | 'profile' | 'reset' | 'stepup';

/** One authorization request in flight: `state` is its key in `SessionData.pending`. */
export interface PendingAuth {
  purpose: AuthPurpose;
  flow: string;
  /** The authority URL it was sent to: after a tenant switch the request is dropped, not redeemed. */
  authority?: string;
  nonce: string;
  codeVerifier: string;
  createdAt: number;
  /** Local path to return to after sign-in. */
  returnTo?: string;
  /** The `claims` request sent (External ID step-up); sent again when the code is redeemed. */
  claims?: string;
  /**
   * Step-up: the change this verification authorises. Kept with its own state, so of two saves
   * that each went to step-up, each verification writes what was typed for it.
   */
  write?: PendingWrite;
}

export interface SignedInUser {
  oid: string;
  /** MSAL account key in the token cache (homeAccountId). */
  homeAccountId: string;
  /** Claims of the latest ID token (refreshed after a profile edit). */
  claims: Record<string, unknown>;
  /** The user flow that issued the latest ID token: logout goes through that flow. */
  idTokenFlow: string;
  signedInAt: number;
}

export interface BeneficiaryInput {
  name: string;
  relationship: string;
  sharePercent: string;
}

/** A beneficiary change waiting for step-up MFA: what the user typed, replayed after. */
export interface PendingWrite {
  rows: BeneficiaryInput[];
  etag?: string;
  createdAt: number;
  /** Set when the retry failed: shown above the kept values. */
  errors?: string[];
}

export interface Flash {
  kind: 'success' | 'error' | 'info';
  message: string;
}

export interface SessionData {
  csrf: string;
  user?: SignedInUser;
  /** Serialised MSAL token cache of this user (per-user cache). */
  msalCache?: string;
  pending: Record<string, PendingAuth>;
  pendingWrite?: PendingWrite;
  flash?: Flash;
}
