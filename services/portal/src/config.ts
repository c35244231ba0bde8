import { commonEnvShape, devOnly, env, loadConfig } from '@idp/service-kit';
import { z } from 'zod';

/** 32 bytes, base64 (or base64url) encoded: an AES-256 key. */
const aesKey = z
  .string({ error: 'is required but not set' })
  .refine((v) => Buffer.from(v, 'base64').length === 32, { message: 'must be 32 bytes, base64 encoded (openssl rand -base64 32)' });

const flowName = (def: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, { message: 'must be a user flow name like B2C_1_signupsignin' })
    .default(def);

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
    /** https://<tenant>.b2clogin.com, or the dev stand-in https://localhost:<port>. */
    B2C_AUTHORITY_HOST: env.url(['https']).transform((v) => v.replace(/\/+$/, '')),
    B2C_TENANT_DOMAIN: z
      .string({ error: 'is required but not set' })
      .regex(/^[a-z0-9-]+\.onmicrosoft\.com$/i, { message: 'must look like contoso.onmicrosoft.com' }),
    B2C_SIGNUP_SIGNIN_FLOW: flowName('B2C_1_signupsignin'),
    B2C_MFA_FLOW: flowName('B2C_1_signupsignin_mfa'),
    B2C_PROFILE_EDIT_FLOW: flowName('B2C_1_profileedit'),
    B2C_PASSWORD_RESET_FLOW: flowName('B2C_1_passwordreset'),
    B2C_CLIENT_ID: z.uuid({ error: 'must be the application (client) id, a GUID' }),
    B2C_CLIENT_SECRET: z.string().min(1).optional(),
    /** Certificate credential instead of a secret: PEM files of the certificate and its private key. */
    B2C_CLIENT_CERTIFICATE_FILE: z.string().min(1).optional(),
    B2C_CLIENT_PRIVATE_KEY_FILE: z.string().min(1).optional(),
    /** Defaults to <PUBLIC_BASE_URL>/auth/redirect. */
    B2C_REDIRECT_URI: devOnly(env.url(['https', 'http']).optional(), {
      why: 'a plain-http reply URL only works against a local identity stand-in',
      enabled: (v) => typeof v === 'string' && v.startsWith('http:'),
    }),
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
  .superRefine((c, ctx) => {
    const hasCert = !!c.B2C_CLIENT_CERTIFICATE_FILE || !!c.B2C_CLIENT_PRIVATE_KEY_FILE;
    if (!c.B2C_CLIENT_SECRET && !hasCert) {
      ctx.addIssue({ code: 'custom', path: ['B2C_CLIENT_SECRET'], message: 'is required unless B2C_CLIENT_CERTIFICATE_FILE and B2C_CLIENT_PRIVATE_KEY_FILE are set' });
    }
    if (hasCert && !(c.B2C_CLIENT_CERTIFICATE_FILE && c.B2C_CLIENT_PRIVATE_KEY_FILE)) {
      ctx.addIssue({ code: 'custom', path: ['B2C_CLIENT_PRIVATE_KEY_FILE'], message: 'B2C_CLIENT_CERTIFICATE_FILE and B2C_CLIENT_PRIVATE_KEY_FILE go together' });
    }
    for (const [i, k] of c.SESSION_ENCRYPTION_KEYS_PREVIOUS.entries()) {
      if (Buffer.from(k, 'base64').length !== 32) {
        ctx.addIssue({ code: 'custom', path: ['SESSION_ENCRYPTION_KEYS_PREVIOUS'], message: `entry ${i + 1} must be 32 bytes, base64 encoded` });
      }
    }
    if (c.SESSION_IDLE_TIMEOUT_SECONDS > c.SESSION_ABSOLUTE_TIMEOUT_SECONDS) {
      ctx.addIssue({ code: 'custom', path: ['SESSION_IDLE_TIMEOUT_SECONDS'], message: 'must not exceed SESSION_ABSOLUTE_TIMEOUT_SECONDS' });
    }
  });
export type PortalConfig = z.infer<typeof portalEnv>;
export const loadPortalConfig = (e: NodeJS.ProcessEnv = process.env): PortalConfig => loadConfig(portalEnv, e);

export const redirectUriOf = (c: PortalConfig): string => c.B2C_REDIRECT_URI ?? `${c.PUBLIC_BASE_URL}/auth/redirect`;
