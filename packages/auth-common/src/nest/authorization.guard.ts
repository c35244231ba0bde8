import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { BearerChallenge } from '../bearer-challenge';
import {
  checkRoles,
  checkScopeOrRole,
  checkScopes,
  checkStepUp,
  type ScopeOrRolePolicy,
  type StepUpPolicy,
} from '../authorization-policy';
import type { Principal } from '../principal';
import { TokenValidator } from '../token-validator';
import {
  REQUIRED_ROLES_KEY,
  REQUIRED_SCOPES_KEY,
  SCOPE_OR_ROLE_KEY,
  STEP_UP_KEY,
} from './auth.constants';
import { BearerAuthException } from './bearer-auth.exception';
import { getRequestPrincipal } from './request-principal';

const present = <T>(values: Array<T | undefined>): T[] =>
  values.filter((v): v is T => v !== undefined);

/**
 * Enforces @RequireScopes / @RequireRoles / @RequireScopeOrRole (class and
 * handler requirements all apply) and @RequireStepUp (handler overrides class,
 * unset fields fall back to the module's `stepUp` options; B2C tokens are held to
 * `userFlows`, Entra / External ID tokens to `authContext`). Runs after JwtAuthGuard.
 */
@Injectable()
export class AuthorizationGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly validator: TokenValidator,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return false;
    const targets = [context.getHandler(), context.getClass()];
    const scopes = present(
      this.reflector.getAll<Array<string[] | undefined>>(REQUIRED_SCOPES_KEY, targets),
    );
    const roles = present(
      this.reflector.getAll<Array<string[] | undefined>>(REQUIRED_ROLES_KEY, targets),
    );
    const either = present(
      this.reflector.getAll<Array<ScopeOrRolePolicy | undefined>>(SCOPE_OR_ROLE_KEY, targets),
    );
    const stepUp = this.reflector.getAllAndOverride<StepUpPolicy | undefined>(STEP_UP_KEY, targets);
    if (!scopes.length && !roles.length && !either.length && !stepUp) return true;

    const principal = getRequestPrincipal(context.switchToHttp().getRequest());
    if (!principal) throw BearerAuthException.missingToken();

    const challenge =
      this.first(scopes.map((s) => () => checkScopes(principal, s))) ??
      this.first(roles.map((r) => () => checkRoles(principal, r))) ??
      this.first(either.map((e) => () => checkScopeOrRole(principal, e))) ??
      (stepUp ? this.checkStepUp(principal, stepUp) : undefined);
    if (challenge) throw new BearerAuthException(challenge);
    return true;
  }

  private first(checks: Array<() => BearerChallenge | undefined>): BearerChallenge | undefined {
    for (const check of checks) {
      const challenge = check();
      if (challenge) return challenge;
    }
    return undefined;
  }

  private checkStepUp(principal: Principal, route: StepUpPolicy): BearerChallenge | undefined {
    const defaults = this.validator.options.stepUp;
    const policy: StepUpPolicy = {
      userFlows: route.userFlows ?? defaults.userFlows,
      authContext: route.authContext ?? defaults.authContext,
      maxAgeSeconds: route.maxAgeSeconds ?? defaults.maxAgeSeconds,
    };
    if (!policy.userFlows?.length && !policy.authContext && policy.maxAgeSeconds === undefined) {
      // Fail closed: a step-up route with nothing to check is a configuration bug.
      throw new Error(
        '@RequireStepUp() needs userFlows, authContext or maxAgeSeconds (here or in AuthModule stepUp options)',
      );
    }
    const nowSeconds = Math.floor(this.validator.now() / 1000);
    return checkStepUp(
      principal,
      policy,
      nowSeconds,
      this.validator.options.clockSkewSeconds,
      this.validator.claimsChallengeTarget(principal),
    );
  }
}
