import {
  authContextClaimsRequest,
  BearerChallenges,
  type BearerChallenge,
  type ClaimsChallenge,
} from './bearer-challenge';
import type { Principal, UserPrincipal } from './principal';
import type { ClaimsChallengeTarget } from './token-validator';

// Authorization decisions on a verified principal. Each returns undefined when
// allowed, else the challenge to send. Framework-free so non-Nest code can reuse them.

export interface ScopeOrRolePolicy {
  /** Any one of these delegated scopes (user tokens). */
  scopes?: readonly string[];
  /** Any one of these app roles (app-only tokens). */
  roles?: readonly string[];
}

/**
 * "Step-up required", for either provider: a B2C token proves MFA by its user flow
 * (`tfp`/`acr` in `userFlows`), an Entra / External ID token by its authentication
 * context (`acrs` containing `authContext`); both by a recent enough `auth_time`.
 */
export interface StepUpPolicy {
  /** B2C: allowed user flows / acr values, compared case-insensitively. */
  userFlows?: readonly string[];
  /** Entra / External ID: the Conditional Access authentication context required, e.g. `c1`. */
  authContext?: string;
  /** Maximum age of auth_time in seconds. */
  maxAgeSeconds?: number;
}

/** Every listed scope must be granted; app-only tokens never satisfy a scope. */
export function checkScopes(
  p: Principal,
  required: readonly string[],
): BearerChallenge | undefined {
  if (required.length === 0) return undefined;
  if (p.kind === 'user' && required.every((s) => p.scopes.includes(s))) return undefined;
  return BearerChallenges.insufficientScope('The access token lacks a required scope', required);
}

/** Every listed app role must be granted; delegated (user) tokens never satisfy a role. */
export function checkRoles(p: Principal, required: readonly string[]): BearerChallenge | undefined {
  if (required.length === 0) return undefined;
  if (p.kind === 'app' && required.every((r) => p.roles.includes(r))) return undefined;
  return BearerChallenges.insufficientScope('The access token lacks a required app role');
}

/** A user with any listed scope, or an app with any listed role. */
export function checkScopeOrRole(
  p: Principal,
  policy: ScopeOrRolePolicy,
): BearerChallenge | undefined {
  const scopes = policy.scopes ?? [];
  const roles = policy.roles ?? [];
  if (p.kind === 'user' && scopes.some((s) => p.scopes.includes(s))) return undefined;
  if (p.kind === 'app' && roles.some((r) => p.roles.includes(r))) return undefined;
  return BearerChallenges.insufficientScope(
    'The access token lacks a required scope or app role',
    p.kind === 'user' && scopes.length > 0 ? scopes : undefined,
  );
}

/** The client capability (`xms_cc`) that declares a client can answer a claims challenge. */
export const CLAIMS_CHALLENGE_CAPABILITY = 'cp1';

/** Entra and External ID prove step-up by authentication context; B2C by user flow. */
const provesByAuthContext = (p: UserPrincipal): boolean =>
  p.provider?.kind === 'external-id' || p.provider?.kind === 'entra';

// A policy that names only the other provider's proof of MFA cannot be met by this token:
// refuse it rather than fall back to the auth_time check alone.
const cannotStepUp = (): BearerChallenge =>
  BearerChallenges.insufficientScope(
    'This operation requires a step-up that this identity provider is not configured for',
  );

/**
 * RFC 9470 step-up. B2C: the token must come from an allowed user flow (tfp/acr).
 * Entra / External ID: its `acrs` must contain the authentication context, and the
 * challenge carries Microsoft's claims challenge too when `claimsTarget` is known and the
 * token's `xms_cc` declares `cp1`.
 * Both: auth_time within maxAgeSeconds (missing auth_time counts as too old).
 */
export function checkStepUp(
  p: Principal,
  policy: StepUpPolicy,
  nowSeconds: number,
  clockSkewSeconds: number,
  claimsTarget?: ClaimsChallengeTarget,
): BearerChallenge | undefined {
  const flows = policy.userFlows?.map((f) => f.toLowerCase());
  const context = policy.authContext?.toLowerCase();
  const maxAge = policy.maxAgeSeconds;
  if (p.kind !== 'user') {
    return BearerChallenges.insufficientScope('This operation requires a signed-in user');
  }
  const byContext = provesByAuthContext(p);
  let challenge: (description: string) => BearerChallenge;
  if (byContext) {
    if (!context && flows?.length) return cannotStepUp();
    // Microsoft: send a claims challenge only to clients that declared they can handle one
    // (xms_cc holds cp1); others get the RFC 9470 challenge alone.
    const claims: ClaimsChallenge | undefined =
      context && claimsTarget && p.clientCapabilities?.includes(CLAIMS_CHALLENGE_CAPABILITY)
        ? {
            realm: claimsTarget.realm,
            authorizationUri: claimsTarget.authorizationUri,
            claims: authContextClaimsRequest(context),
          }
        : undefined;
    challenge = (d) => BearerChallenges.stepUp(d, context ? [context] : undefined, maxAge, claims);
    if (context && !p.authContexts?.includes(context)) {
      return challenge('A different authentication level is required');
    }
  } else {
    if (!flows?.length && context) return cannotStepUp();
    challenge = (d) => BearerChallenges.stepUp(d, flows, maxAge);
    if (flows?.length && (!p.userFlow || !flows.includes(p.userFlow))) {
      return challenge('A different authentication level is required');
    }
  }
  if (maxAge !== undefined) {
    const age = p.authTime === undefined ? Infinity : nowSeconds - p.authTime;
    if (age > maxAge || age < -clockSkewSeconds) {
      return challenge('More recent authentication is required');
    }
  }
  return undefined;
}
