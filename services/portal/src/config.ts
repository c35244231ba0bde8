import { commonEnvShape, devOnly, env, loadConfig } from '@idp/service-kit';
import { z } from 'zod';

/** 32 bytes, base64 (or base64url) encoded: an AES-256 key. */
const aesKey = z
  .string({ error: 'is required but not set' })
  .refine((v) => Buffer.from(v, 'base64').length === 32, {
    message: 'must be 32 bytes, base64 encoded (openssl rand -base64 32)',
  });

const flowName = (def: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, { message: 'must be a user flow name like B2C_1_signupsignin' })
    .default(def);

export const CUSTOMER_IDENTITY_PROVIDERS = ['b2c', 'external-id'] as const;
export type CustomerIdentityProvider = (typeof CUSTOMER_IDENTITY_PROVIDERS)[number];

const required = (variable: string, provider: CustomerIdentityProvider) => ({
  path: [variable],
  message:
    provider === 'b2c'
      ? 'is required but not set'
      : 'is required with CUSTOMER_IDENTITY_PROVIDER=external-id',
  when: () => true,
});

export interface CredentialSettings {
  secret?: string;
  certificateFile?: string;
  privateKeyFile?: string;
}

type CredentialVariables = Partial<
  Record<
    | 'B2C_CLIENT_SECRET'
    | 'B2C_CLIENT_CERTIFICATE_FILE'
    | 'B2C_CLIENT_PRIVATE_KEY_FILE'
    | 'EXTERNAL_ID_CLIENT_SECRET'
    | 'EXTERNAL_ID_CLIENT_CERTIFICATE_FILE'
    | 'EXTERNAL_ID_CLIENT_PRIVATE_KEY_FILE',
    string
  >
> & { CUSTOMER_IDENTITY_PROVIDER: CustomerIdentityProvider };

/** The selected provider's client credential variables. */
export function credentialSettingsOf(c: CredentialVariables): CredentialSettings {
  return c.CUSTOMER_IDENTITY_PROVIDER === 'b2c'
    ? {
        secret: c.B2C_CLIENT_SECRET,
        certificateFile: c.B2C_CLIENT_CERTIFICATE_FILE,
        privateKeyFile: c.B2C_CLIENT_PRIVATE_KEY_FILE,
      }
    : {
        secret: c.EXTERNAL_ID_CLIENT_SECRET,
        certificateFile: c.EXTERNAL_ID_CLIENT_CERTIFICATE_FILE,
        privateKeyFile: c.EXTERNAL_ID_CLIENT_PRIVATE_KEY_FILE,
      };
}

// The portal uses no NATS: the common shape minus the NATS variables (set, they are not read).
const {
  NATS_URL: _url,
  NATS_USER: _user,
  NATS_PASSWORD: _password,
  ...commonShape
} = commonEnvShape;

/** The environment the portal reads; every variable's description feeds the README reference. */
export const envSchema = z
  .object({
    ...commonShape,
    PORT: env
      .port(3000)
      .describe('HTTP port the portal listens on (behind the HTTPS entry point).'),
    PUBLIC_BASE_URL: env
      .url(['https'])
      .transform((v) => v.replace(/\/+$/, ''))
      .describe(
        'Origin users reach the portal on (behind the ingress), e.g. https://portal.contoso.example; used for the default redirect URI, the post-logout URI and the CSRF origin check.',
      ),
    POLICY_API_URL: env
      .url(['http', 'https'])
      .transform((v) => v.replace(/\/+$/, ''))
      .describe('Base URL of services/policy-api, e.g. http://policy-api:3001.'),
    POLICY_API_APP_ID_URI: env
      .url(['https', 'api'])
      .transform((v) => v.replace(/\/+$/, ''))
      .describe(
        'App ID URI of the policy API; its scopes are <uri>/Accounts.Read and <uri>/Accounts.Write (e.g. https://contoso.onmicrosoft.com/policy-api).',
      ),
    POLICY_API_TIMEOUT_MS: env
      .int(10000, 100)
      .describe(
        'Timeout in milliseconds of each policy API call (and of each Graph call on External ID).',
      ),
    CUSTOMER_IDENTITY_PROVIDER: z
      .enum(CUSTOMER_IDENTITY_PROVIDERS, { error: 'must be b2c or external-id' })
      .default('b2c')
      .describe(
        "Which customer identity provider signs users in, one at a time: b2c (Azure AD B2C user flows, the B2C_* variables) or external-id (Microsoft Entra External ID, the EXTERNAL_ID_* variables); the other's variables are ignored.",
      ),
    B2C_AUTHORITY_HOST: env
      .url(['https'])
      .transform((v) => v.replace(/\/+$/, ''))
      .optional()
      .describe(
        'B2C host, https://<tenant>.b2clogin.com, or the dev stand-in https://localhost:<port>; required for b2c.',
      ),
    B2C_TENANT_DOMAIN: z
      .string()
      .regex(/^[a-z0-9-]+\.onmicrosoft\.com$/i, {
        message: 'must look like contoso.onmicrosoft.com',
      })
      .optional()
      .describe('B2C tenant domain, <tenant>.onmicrosoft.com; required for b2c.'),
    B2C_SIGNUP_SIGNIN_FLOW: flowName('B2C_1_signupsignin').describe(
      'B2C sign-up-or-sign-in user flow.',
    ),
    B2C_MFA_FLOW: flowName('B2C_1_signupsignin_mfa').describe(
      "B2C step-up flow, used when a challenge's acr_values names no flow the portal knows.",
    ),
    B2C_PROFILE_EDIT_FLOW: flowName('B2C_1_profileedit').describe('B2C profile-edit user flow.'),
    B2C_PASSWORD_RESET_FLOW: flowName('B2C_1_passwordreset').describe(
      'B2C password-reset user flow.',
    ),
    B2C_CLIENT_ID: z
      .uuid({ error: 'must be the application (client) id, a GUID' })
      .optional()
      .describe('Application (client) id (a GUID) of the portal registration; required for b2c.'),
    B2C_CLIENT_SECRET: z
      .string()
      .min(1)
      .optional()
      .describe('B2C client secret; required unless the certificate pair below is set.'),
    B2C_CLIENT_CERTIFICATE_FILE: z
      .string()
      .min(1)
      .optional()
      .describe('PEM certificate file of a B2C certificate credential (instead of the secret).'),
    B2C_CLIENT_PRIVATE_KEY_FILE: z
      .string()
      .min(1)
      .optional()
      .describe('PEM private key file of that certificate (both or neither).'),
    B2C_REDIRECT_URI: devOnly(
      env
        .url(['https', 'http'])
        .optional()
        .describe(
          'Registered redirect URI on B2C, default <PUBLIC_BASE_URL>/auth/redirect (a plain-http one is development-only); External ID always uses the default.',
        ),
      {
        why: 'a plain-http reply URL only works against a local identity stand-in',
        enabled: (v) => typeof v === 'string' && v.startsWith('http:'),
      },
    ),
    EXTERNAL_ID_AUTHORITY: env
      .url(['https'])
      .transform((v) => v.replace(/\/+$/, ''))
      .optional()
      .describe(
        'External ID authority, https://<subdomain>.ciamlogin.com/ (metadata read from .../<subdomain>.onmicrosoft.com/v2.0/.well-known/openid-configuration) or with the tenant id as path, or the stand-in https://localhost:<port>/<tenantId>; required for external-id.',
      ),
    EXTERNAL_ID_KNOWN_AUTHORITIES: env
      .list()
      .default([])
      .describe(
        "Comma-separated host[:port] entries MSAL trusts without instance discovery; default the authority's host (which covers the stand-in).",
      ),
    EXTERNAL_ID_CLIENT_ID: z
      .uuid({ error: 'must be the application (client) id, a GUID' })
      .optional()
      .describe(
        "Application (client) id (a GUID) of the portal's registration in the external tenant; required for external-id.",
      ),
    EXTERNAL_ID_CLIENT_SECRET: z
      .string()
      .min(1)
      .optional()
      .describe(
        'External ID client secret; required for external-id unless the certificate pair below is set.',
      ),
    EXTERNAL_ID_CLIENT_CERTIFICATE_FILE: z
      .string()
      .min(1)
      .optional()
      .describe(
        'PEM certificate file of an External ID certificate credential (instead of the secret).',
      ),
    EXTERNAL_ID_CLIENT_PRIVATE_KEY_FILE: z
      .string()
      .min(1)
      .optional()
      .describe('PEM private key file of that certificate (both or neither).'),
    GRAPH_BASE_URL: env
      .url(['https'])
      .transform((v) => v.replace(/\/+$/, ''))
      .default('https://graph.microsoft.com')
      .describe(
        'Microsoft Graph, for Edit Profile on External ID (GET/PATCH /v1.0/me); the stand-in serves it on its own origin.',
      ),
    SESSION_ENCRYPTION_KEY: aesKey.describe(
      'AES-256 key sealing the sessions: 32 bytes, base64 (openssl rand -base64 32).',
    ),
    SESSION_ENCRYPTION_KEYS_PREVIOUS: env
      .list()
      .default([])
      .describe('Comma-separated older keys still accepted for reading sessions (rotation).'),
    SESSION_IDLE_TIMEOUT_SECONDS: env
      .int(1800, 60)
      .describe(
        'A session ends after this many seconds without a request (at least 60, at most the absolute timeout).',
      ),
    SESSION_ABSOLUTE_TIMEOUT_SECONDS: env
      .int(8 * 3600, 60)
      .describe('A session ends this many seconds after sign-in, whatever the activity.'),
    SESSION_COOKIE_NAME: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, { message: 'must be a cookie name (letters, digits, _ and -)' })
      .default('__Host-portal_sid')
      .describe('Session cookie name (keep the __Host- prefix in production).'),
  })
  // Per provider, `when` so these are reported even beside other problems (zod skips plain refinements then).
  .refine(
    (c) => c.CUSTOMER_IDENTITY_PROVIDER !== 'b2c' || c.B2C_AUTHORITY_HOST !== undefined,
    required('B2C_AUTHORITY_HOST', 'b2c'),
  )
  .refine(
    (c) => c.CUSTOMER_IDENTITY_PROVIDER !== 'b2c' || c.B2C_TENANT_DOMAIN !== undefined,
    required('B2C_TENANT_DOMAIN', 'b2c'),
  )
  .refine(
    (c) => c.CUSTOMER_IDENTITY_PROVIDER !== 'b2c' || c.B2C_CLIENT_ID !== undefined,
    required('B2C_CLIENT_ID', 'b2c'),
  )
  .refine(
    (c) => c.CUSTOMER_IDENTITY_PROVIDER !== 'external-id' || c.EXTERNAL_ID_AUTHORITY !== undefined,
    required('EXTERNAL_ID_AUTHORITY', 'external-id'),
  )
  .refine(
    (c) => c.CUSTOMER_IDENTITY_PROVIDER !== 'external-id' || c.EXTERNAL_ID_CLIENT_ID !== undefined,
    required('EXTERNAL_ID_CLIENT_ID', 'external-id'),
  )
  .superRefine((c, ctx) => {
    const prefix = c.CUSTOMER_IDENTITY_PROVIDER === 'b2c' ? 'B2C' : 'EXTERNAL_ID';
    const credential = credentialSettingsOf(c);
    const [secretVar, certVar, keyVar] = [
      `${prefix}_CLIENT_SECRET`,
      `${prefix}_CLIENT_CERTIFICATE_FILE`,
      `${prefix}_CLIENT_PRIVATE_KEY_FILE`,
    ];
    const hasCert = !!credential.certificateFile || !!credential.privateKeyFile;
    if (!credential.secret && !hasCert) {
      ctx.addIssue({
        code: 'custom',
        path: [secretVar],
        message: `is required unless ${certVar} and ${keyVar} are set`,
      });
    }
    if (hasCert && !(credential.certificateFile && credential.privateKeyFile)) {
      ctx.addIssue({
        code: 'custom',
        path: [keyVar],
        message: `${certVar} and ${keyVar} go together`,
      });
    }
    if (c.CUSTOMER_IDENTITY_PROVIDER === 'external-id') {
      const authority = c.EXTERNAL_ID_AUTHORITY ? new URL(c.EXTERNAL_ID_AUTHORITY) : undefined;
      if (
        authority &&
        (authority.search ||
          authority.hash ||
          authority.pathname.split('/').filter(Boolean).length > 1)
      ) {
        ctx.addIssue({
          code: 'custom',
          path: ['EXTERNAL_ID_AUTHORITY'],
          message:
            'must be https://<subdomain>.ciamlogin.com/ with at most the tenant id or domain as path',
        });
      }
      for (const [i, h] of c.EXTERNAL_ID_KNOWN_AUTHORITIES.entries()) {
        if (!/^[a-z0-9.-]+(:\d{1,5})?$/i.test(h))
          ctx.addIssue({
            code: 'custom',
            path: ['EXTERNAL_ID_KNOWN_AUTHORITIES'],
            message: `entry ${i + 1} must be host[:port]`,
          });
      }
    }
    for (const [i, k] of c.SESSION_ENCRYPTION_KEYS_PREVIOUS.entries()) {
      if (Buffer.from(k, 'base64').length !== 32) {
        ctx.addIssue({
          code: 'custom',
          path: ['SESSION_ENCRYPTION_KEYS_PREVIOUS'],
          message: `entry ${i + 1} must be 32 bytes, base64 encoded`,
        });
      }
    }
    if (c.SESSION_IDLE_TIMEOUT_SECONDS > c.SESSION_ABSOLUTE_TIMEOUT_SECONDS) {
      ctx.addIssue({
        code: 'custom',
        path: ['SESSION_IDLE_TIMEOUT_SECONDS'],
        message: 'must not exceed SESSION_ABSOLUTE_TIMEOUT_SECONDS',
      });
    }
  });
export type PortalConfig = z.infer<typeof envSchema>;
/** Injection token of the portal's parsed configuration (PortalConfig). */
export const PORTAL_CONFIG = Symbol('PORTAL_CONFIG');
export const loadPortalConfig = (e: NodeJS.ProcessEnv = process.env): PortalConfig =>
  loadConfig(envSchema, e);

export const redirectUriOf = (c: PortalConfig): string =>
  (c.CUSTOMER_IDENTITY_PROVIDER === 'b2c' ? c.B2C_REDIRECT_URI : undefined) ??
  `${c.PUBLIC_BASE_URL}/auth/redirect`;
