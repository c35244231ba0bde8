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

export const portalEnv = z
  .object({
    ...commonEnvShape,
    PORT: env.port(3000),
    /** The origin users reach the portal on (behind the ingress), e.g. https://portal.contoso.example. */
    PUBLIC_BASE_URL: env.url(['https']).transform((v) => v.replace(/\/+$/, '')),
    POLICY_API_URL: env.url(['http', 'https']).transform((v) => v.replace(/\/+$/, '')),
    /** App ID URI of the policy API; its scopes are <uri>/Accounts.Read and <uri>/Accounts.Write. */
    POLICY_API_APP_ID_URI: env.url(['https', 'api']).transform((v) => v.replace(/\/+$/, '')),
    POLICY_API_TIMEOUT_MS: env.int(10000, 100),
    /** Which customer identity provider the portal signs users in with (one at a time). */
    CUSTOMER_IDENTITY_PROVIDER: z
      .enum(CUSTOMER_IDENTITY_PROVIDERS, { error: 'must be b2c or external-id' })
      .default('b2c'),
    /** https://<tenant>.b2clogin.com, or the dev stand-in https://localhost:<port>. Required for b2c. */
    B2C_AUTHORITY_HOST: env
      .url(['https'])
      .transform((v) => v.replace(/\/+$/, ''))
      .optional(),
    B2C_TENANT_DOMAIN: z
      .string()
      .regex(/^[a-z0-9-]+\.onmicrosoft\.com$/i, {
        message: 'must look like contoso.onmicrosoft.com',
      })
      .optional(),
    B2C_SIGNUP_SIGNIN_FLOW: flowName('B2C_1_signupsignin'),
    B2C_MFA_FLOW: flowName('B2C_1_signupsignin_mfa'),
    B2C_PROFILE_EDIT_FLOW: flowName('B2C_1_profileedit'),
    B2C_PASSWORD_RESET_FLOW: flowName('B2C_1_passwordreset'),
    B2C_CLIENT_ID: z.uuid({ error: 'must be the application (client) id, a GUID' }).optional(),
    B2C_CLIENT_SECRET: z.string().min(1).optional(),
    /** Certificate credential instead of a secret: PEM files of the certificate and its private key. */
    B2C_CLIENT_CERTIFICATE_FILE: z.string().min(1).optional(),
    B2C_CLIENT_PRIVATE_KEY_FILE: z.string().min(1).optional(),
    /** Defaults to <PUBLIC_BASE_URL>/auth/redirect. */
    B2C_REDIRECT_URI: devOnly(env.url(['https', 'http']).optional(), {
      why: 'a plain-http reply URL only works against a local identity stand-in',
      enabled: (v) => typeof v === 'string' && v.startsWith('http:'),
    }),
    /** https://<subdomain>.ciamlogin.com/ (optionally with the tenant id or domain), or the stand-in https://localhost:<port>/<tenantId>. */
    EXTERNAL_ID_AUTHORITY: env
      .url(['https'])
      .transform((v) => v.replace(/\/+$/, ''))
      .optional(),
    /** host[:port] entries MSAL may trust without instance discovery; default the authority's host. */
    EXTERNAL_ID_KNOWN_AUTHORITIES: env.list().default([]),
    EXTERNAL_ID_CLIENT_ID: z
      .uuid({ error: 'must be the application (client) id, a GUID' })
      .optional(),
    EXTERNAL_ID_CLIENT_SECRET: z.string().min(1).optional(),
    EXTERNAL_ID_CLIENT_CERTIFICATE_FILE: z.string().min(1).optional(),
    EXTERNAL_ID_CLIENT_PRIVATE_KEY_FILE: z.string().min(1).optional(),
    /** Microsoft Graph (profile edit on External ID); the stand-in serves /v1.0/me on its own origin. */
    GRAPH_BASE_URL: env
      .url(['https'])
      .transform((v) => v.replace(/\/+$/, ''))
      .default('https://graph.microsoft.com'),
    SESSION_ENCRYPTION_KEY: aesKey,
    /** Older keys still accepted for reading sessions (rotation); comma separated. */
    SESSION_ENCRYPTION_KEYS_PREVIOUS: env.list().default([]),
    SESSION_IDLE_TIMEOUT_SECONDS: env.int(1800, 60),
    SESSION_ABSOLUTE_TIMEOUT_SECONDS: env.int(8 * 3600, 60),
    SESSION_COOKIE_NAME: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, { message: 'must be a cookie name (letters, digits, _ and -)' })
      .default('__Host-portal_sid'),
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
export type PortalConfig = z.infer<typeof portalEnv>;
export const loadPortalConfig = (e: NodeJS.ProcessEnv = process.env): PortalConfig =>
  loadConfig(portalEnv, e);

export const redirectUriOf = (c: PortalConfig): string =>
  (c.CUSTOMER_IDENTITY_PROVIDER === 'b2c' ? c.B2C_REDIRECT_URI : undefined) ??
  `${c.PUBLIC_BASE_URL}/auth/redirect`;
