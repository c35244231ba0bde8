import type { AuthModuleOptions } from '@idp/auth-common';
import type { PolicyApiConfig } from '../config';

/** Scopes and app roles this API exposes (the app registration's values). */
export const Scopes = { read: 'Accounts.Read', write: 'Accounts.Write' } as const;
export const AppRoles = { readAll: 'Policies.Read.All' } as const;

/**
 * B2C user-flow tokens (delegated, `scp`) and app-only tokens (client credentials, `roles`)
 * are validated by one validator; the user-flow allow-list only applies to user tokens.
 */
export function authModuleOptions(c: PolicyApiConfig): AuthModuleOptions {
  return {
    identityMetadata: [...c.B2C_IDENTITY_METADATA, ...c.APP_IDENTITY_METADATA],
    audience: c.API_AUDIENCE,
    isB2C: true,
    allowInsecureHttp: c.AUTH_ALLOW_INSECURE_HTTP,
    clockSkewSeconds: c.AUTH_CLOCK_SKEW_SECONDS,
    stepUp: { userFlows: c.STEP_UP_USER_FLOWS, maxAgeSeconds: c.STEP_UP_MAX_AGE_SECONDS },
  };
}
