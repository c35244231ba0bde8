import type { AuthModuleOptions, IdentityProviderOptions } from '@idp/auth-common';
import { externalIdOf, type PolicyApiConfig } from '../config';

/** Scopes and app roles this API exposes (the app registration's values). */
export const Scopes = { read: 'Accounts.Read', write: 'Accounts.Write' } as const;
export const AppRoles = { readAll: 'Policies.Read.All' } as const;

/**
 * The trusted providers, each validated on its own keys, issuers, audiences and tenant:
 * B2C user flows, the External ID tenant (or both during a migration window), and the
 * Entra tenants whose app-only tokens (daemons) are accepted.
 */
export function identityProviders(c: PolicyApiConfig): IdentityProviderOptions[] {
  const externalId = externalIdOf(c);
  return [
    ...(c.B2C_IDENTITY_METADATA
      ? [{ kind: 'b2c' as const, identityMetadata: c.B2C_IDENTITY_METADATA }]
      : []),
    ...(externalId
      ? [
          {
            kind: 'external-id' as const,
            tenantId: externalId.tenantId,
            identityMetadata: externalId.metadataUrl,
            ...(c.EXTERNAL_ID_AUDIENCE ? { audience: c.EXTERNAL_ID_AUDIENCE } : {}),
            // Only this provider carries the migration claim: a B2C token can never claim a link.
            ...(c.LEGACY_OBJECT_ID_CLAIM ? { legacyObjectIdClaim: c.LEGACY_OBJECT_ID_CLAIM } : {}),
          },
        ]
      : []),
    ...(c.APP_IDENTITY_METADATA.length > 0
      ? [{ kind: 'entra' as const, identityMetadata: c.APP_IDENTITY_METADATA }]
      : []),
  ];
}

/** Step-up for beneficiary changes: B2C by MFA user flow, External ID by authentication context. */
export function authModuleOptions(c: PolicyApiConfig): AuthModuleOptions {
  return {
    providers: identityProviders(c),
    audience: c.API_AUDIENCE,
    allowInsecureHttp: c.AUTH_ALLOW_INSECURE_HTTP,
    clockSkewSeconds: c.AUTH_CLOCK_SKEW_SECONDS,
    maxTokenLifetimeSeconds: c.AUTH_MAX_TOKEN_LIFETIME_SECONDS,
    stepUp: {
      userFlows: c.STEP_UP_USER_FLOWS,
      authContext: c.STEP_UP_AUTH_CONTEXT,
      maxAgeSeconds: c.STEP_UP_MAX_AGE_SECONDS,
    },
  };
}
