// What a browser session holds. Stored encrypted (session-cipher.ts); never sent to the browser.

/**
 * Authorization requests in flight per session and budget (the oldest of a budget goes first).
 * Requests that hold what the user typed (a step-up's change, a sign-in after a refused token)
 * have a budget of their own: sign-in, profile and reset requests can be started by any site (a
 * top-level GET), and must not push out a request the user's own form post started.
 */
export const MAX_PENDING = 8;

/** How long an authorization request, and a profile draft a sign-in brought back, stay usable. */
export const PENDING_TTL_MS = 15 * 60 * 1000;

export type AuthPurpose = 'signin' | 'profile' | 'reset' | 'stepup';

export type PendingBudget = 'typed' | 'navigation';
export const budgetOf = (p: Pick<PendingAuth, 'purpose' | 'resume'>): PendingBudget =>
  p.purpose === 'stepup' || p.resume !== undefined ? 'typed' : 'navigation';

/**
 * `pending` with at most `limit` requests of each budget, newest first (of `only` alone, when
 * given: the other budget is left as it is).
 */
export function limitPending(
  pending: Record<string, PendingAuth>,
  limit: number,
  only?: PendingBudget,
): Record<string, PendingAuth> {
  const kept: Record<PendingBudget, number> = { typed: 0, navigation: 0 };
  const entries = Object.entries(pending)
    .sort((a, b) => b[1].createdAt - a[1].createdAt)
    .filter(([, p]) => {
      const budget = budgetOf(p);
      if (only !== undefined && budget !== only) return true;
      kept[budget] += 1;
      return kept[budget] <= limit;
    });
  return Object.fromEntries(entries);
}

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
   * A sign-in asked for by a save whose token was refused: what it brings back, for that user only.
   */
  resume?: ResumeAfterSignIn;
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

/**
 * Profile names typed on a save that needed a new sign-in: shown on the form once, within 15
 * minutes of the sign-in that brought them back (`createdAt` is then reset to that moment).
 */
export interface ProfileDraft {
  fields: { givenName: string; surname: string; displayName: string };
  createdAt: number;
}

/**
 * What a save that needed a new sign-in (refresh token refused) keeps server-side, with that
 * sign-in's state: applied when the same user (`oid`) signs in with it, dropped for anyone else.
 */
export interface ResumeAfterSignIn {
  oid: string;
  flash?: Flash;
  /** Beneficiary rows typed (shown on the form, saved only by the user, step-up and all). */
  beneficiaries?: PendingWrite;
  profile?: ProfileDraft;
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
  /**
   * Beneficiary rows sign-ins brought back (a save whose token was refused), newest first, at
   * most MAX_PENDING: each is shown once on the form, so two tabs' sign-ins lose neither.
   */
  restoredWrites?: PendingWrite[];
  profileDraft?: ProfileDraft;
  flash?: Flash;
}
