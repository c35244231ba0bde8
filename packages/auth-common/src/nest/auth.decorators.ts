import {
  applyDecorators,
  createParamDecorator,
  SetMetadata,
  UseGuards,
  type ExecutionContext,
} from '@nestjs/common';
import { AUTH_CONTEXT_PATTERN } from '../auth-options';
import type { ScopeOrRolePolicy, StepUpPolicy } from '../authorization-policy';
import type { Principal } from '../principal';
import {
  IS_PUBLIC_KEY,
  REQUIRED_ROLES_KEY,
  REQUIRED_SCOPES_KEY,
  SCOPE_OR_ROLE_KEY,
  STEP_UP_KEY,
} from './auth.constants';
import { AuthorizationGuard } from './authorization.guard';
import { BearerAuthException } from './bearer-auth.exception';
import { JwtAuthGuard } from './jwt-auth.guard';
import { getRequestPrincipal } from './request-principal';

function nonEmpty(values: readonly string[], what: string): string[] {
  const list = values.filter((v) => typeof v === 'string' && v.trim().length > 0);
  if (list.length === 0) throw new TypeError(`${what} needs at least one value`);
  return list;
}

const guarded = (key: string, value: unknown) =>
  applyDecorators(SetMetadata(key, value), UseGuards(JwtAuthGuard, AuthorizationGuard));

/** Exempts a route (or controller) from `globalGuards`. */
export const Public = () => SetMetadata(IS_PUBLIC_KEY, true);

/** Any valid token (user or app). */
export const Authenticated = () => UseGuards(JwtAuthGuard, AuthorizationGuard);

/** Delegated token with every listed `scp` scope; 403 insufficient_scope otherwise. */
export const RequireScopes = (...scopes: string[]) =>
  guarded(REQUIRED_SCOPES_KEY, nonEmpty(scopes, '@RequireScopes()'));

/** App-only token with every listed app role; delegated tokens never qualify. */
export const RequireRoles = (...roles: string[]) =>
  guarded(REQUIRED_ROLES_KEY, nonEmpty(roles, '@RequireRoles()'));

/** A user with any of `scopes`, or an app with any of `roles`. */
export const RequireScopeOrRole = (policy: ScopeOrRolePolicy) => {
  const scopes = (policy.scopes ?? []).filter(Boolean);
  const roles = (policy.roles ?? []).filter(Boolean);
  if (!scopes.length && !roles.length)
    throw new TypeError('@RequireScopeOrRole() needs scopes or roles');
  return guarded(SCOPE_OR_ROLE_KEY, { scopes, roles } satisfies ScopeOrRolePolicy);
};

/**
 * RFC 9470 step-up for either provider: a B2C token from an allowed user flow, an
 * Entra / External ID token whose `acrs` holds `authContext` (401 then also carries
 * Microsoft's claims challenge), and `auth_time` within `maxAgeSeconds`; else 401
 * insufficient_user_authentication. Unset fields come from AuthModule's `stepUp` options.
 */
export const RequireStepUp = (policy: StepUpPolicy = {}) => {
  if (policy.authContext !== undefined && !AUTH_CONTEXT_PATTERN.test(policy.authContext)) {
    throw new TypeError('@RequireStepUp() authContext must be c1 … c99');
  }
  return guarded(STEP_UP_KEY, {
    userFlows: policy.userFlows?.map((f) => f.toLowerCase()),
    authContext: policy.authContext?.toLowerCase(),
    maxAgeSeconds: policy.maxAgeSeconds,
  } satisfies StepUpPolicy);
};

/**
 * The authenticated principal. `@CurrentPrincipal('user')` / `('app')` also
 * requires that kind (403 otherwise).
 */
export const CurrentPrincipal = createParamDecorator(
  (kind: Principal['kind'] | undefined, context: ExecutionContext): Principal => {
    const principal = getRequestPrincipal(context.switchToHttp().getRequest());
    if (!principal) throw BearerAuthException.missingToken();
    if (kind && principal.kind !== kind) {
      throw BearerAuthException.insufficientScope(
        kind === 'user'
          ? 'This operation requires a signed-in user'
          : 'This operation requires an application',
      );
    }
    return principal;
  },
);
