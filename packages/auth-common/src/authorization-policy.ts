import { BearerChallenges, type BearerChallenge } from './bearer-challenge';
import type { Principal } from './principal';

// Authorization decisions on a verified principal. Each returns undefined when
// allowed, else the challenge to send. Framework-free so non-Nest code can reuse them.

export interface ScopeOrRolePolicy {
  /** Any one of these delegated scopes (user tokens). */
  scopes?: readonly string[];
  /** Any one of these app roles (app-only tokens). */
  roles?: readonly string[];
}

export interface StepUpPolicy {
  /** Allowed user flows / acr values, compared case-insensitively. */
  userFlows?: readonly string[];
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

/**
 * RFC 9470 step-up: the token must come from an allowed user flow (tfp/acr)
 * and its auth_time must be recent enough.
 */
export function checkStepUp(
  p: Principal,
  policy: StepUpPolicy,
  nowSeconds: number,
  clockSkewSeconds: number,
): BearerChallenge | undefined {
  const flows = policy.userFlows?.map((f) => f.toLowerCase());
  const maxAge = policy.maxAgeSeconds;
  if (p.kind !== 'user') {
    return BearerChallenges.insufficientScope('This operation requires a signed-in user');
  }
  if (flows?.length && (!p.userFlow || !flows.includes(p.userFlow))) {
    return BearerChallenges.stepUp('A different authentication level is required', flows, maxAge);
  }
  if (maxAge !== undefined) {
    const age = p.authTime === undefined ? Infinity : nowSeconds - p.authTime;
    if (age > maxAge || age < -clockSkewSeconds) {
      return BearerChallenges.stepUp('More recent authentication is required', flows, maxAge);
    }
  }
  return undefined;
}
