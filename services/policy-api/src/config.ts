import {
  DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
  externalIdMetadataUrl,
  MAX_MAX_TOKEN_LIFETIME_SECONDS,
  MIN_MAX_TOKEN_LIFETIME_SECONDS,
} from '@idp/auth-common';
import { commonEnvShape, devOnly, env, loadConfig } from '@idp/service-kit';
import { z } from 'zod';

const isHttpUrl = (u: string): boolean => {
  try {
    return ['https:', 'http:'].includes(new URL(u).protocol);
  } catch {
    return false;
  }
};

const commaList = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

const urlList = (what: string) =>
  commaList
    .refine((list) => list.length > 0, { message: `must list at least one ${what}` })
    .refine((list) => list.every(isHttpUrl), {
      message: `must be a comma-separated list of ${what} URLs`,
    });

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An optional variable; set but empty (as a chart may render it) counts as unset. */
const unsetIfEmpty = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

/** Customer identity variables: B2C, External ID, or both during a migration window. */
const identityShape = {
  B2C_IDENTITY_METADATA: unsetIfEmpty(urlList('B2C metadata')).describe(
    'Trust Azure AD B2C: comma-separated OpenID metadata URLs, one per accepted user flow (e.g. …/b2c_1_signupsignin/v2.0/.well-known/openid-configuration and the MFA flow); user tokens from other flows are rejected; this or EXTERNAL_ID_TENANT_ID is required, unset (or empty) when only External ID is trusted.',
  ),
  EXTERNAL_ID_TENANT_ID: unsetIfEmpty(
    z.string().regex(GUID, { message: 'must be the external tenant id (a GUID)' }),
  ).describe(
    'Trust Microsoft Entra External ID: the external tenant id (a GUID); every External ID token must carry it as tid and name the issuer https://<tenant id>.ciamlogin.com/<tenant id>/v2.0; unset: External ID is not trusted.',
  ),
  EXTERNAL_ID_SUBDOMAIN: unsetIfEmpty(
    z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i, {
      message: 'must be the tenant subdomain, e.g. contosoid',
    }),
  ).describe(
    'External ID tenant subdomain: metadata is read from https://<subdomain>.ciamlogin.com/<tenant id>/v2.0/.well-known/openid-configuration; required with EXTERNAL_ID_TENANT_ID unless EXTERNAL_ID_METADATA is set.',
  ),
  EXTERNAL_ID_METADATA: unsetIfEmpty(
    z.string().refine(isHttpUrl, { message: 'must be an http(s) metadata URL' }),
  ).describe(
    'Explicit External ID OpenID metadata URL (a custom URL domain, or a local stand-in); default: built from EXTERNAL_ID_SUBDOMAIN; External ID only.',
  ),
  EXTERNAL_ID_AUDIENCE: unsetIfEmpty(
    commaList.refine((l) => l.length > 0, { message: 'must list at least one audience' }),
  ).describe(
    'Comma-separated accepted aud values of External ID tokens: the client id / identifier URI of the API app registration in the external tenant; default: API_AUDIENCE; External ID only.',
  ),
  LEGACY_OBJECT_ID_CLAIM: unsetIfEmpty(
    z.string().regex(/^[A-Za-z][A-Za-z0-9_.:-]{0,127}$/, {
      message: 'must be a claim name, e.g. extn.legacyB2cObjectId',
    }),
  ).describe(
    "External ID only: the claim carrying a migrated user's former B2C object id (e.g. extn.legacyB2cObjectId, a directory extension attribute emitted as an optional claim), used once to link the user to their B2C policy; unset: no identity is ever linked.",
  ),
  STEP_UP_AUTH_CONTEXT: z
    .string()
    .regex(/^c([1-9]|[1-9][0-9])$/i, { message: 'must be an authentication context id c1 … c99' })
    .default('c1')
    .describe(
      'Conditional Access authentication context (c1 … c99, case-insensitive) that External ID tokens must carry in acrs for a beneficiary change, and that the claims challenge names; default c1.',
    ),
};

export const envSchema = z
  .object({
    ...commonEnvShape,
    PORT: env.port(3001).describe('HTTP port of the API, probes and metrics; default 3001.'),
    API_BASE_PATH: z
      .string()
      .regex(/^(\/[A-Za-z0-9._~-]+)*$/, {
        message: 'must be empty or a path like /api (no trailing slash)',
      })
      .default('')
      .describe(
        'Path prefix of every API route (/api behind the ingress, which does not rewrite paths); /healthz, /readyz and /metrics stay at the root; default empty.',
      ),
    ...identityShape,
    APP_IDENTITY_METADATA: commaList
      .default([])
      .describe(
        'Comma-separated Entra tenant metadata URLs (https://login…/{tenantId}/v2.0/.well-known/openid-configuration) whose app-only tokens (daemons) are accepted; user tokens of these tenants never hold policies (403); default empty.',
      ),
    API_AUDIENCE: z
      .string({ error: 'is required but not set' })
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
      .refine((l) => l.length > 0, { message: 'must list at least one audience' })
      .describe(
        'Required: comma-separated accepted aud values, the API client id and/or identifier URIs (B2C, app-only, and External ID unless EXTERNAL_ID_AUDIENCE is set).',
      ),
    STEP_UP_USER_FLOWS: env
      .list()
      .default(['B2C_1_signupsignin_mfa'])
      .describe(
        'Comma-separated B2C user flows (tfp/acr, case-insensitive) that satisfy step-up for a beneficiary change; default B2C_1_signupsignin_mfa.',
      ),
    STEP_UP_MAX_AGE_SECONDS: env
      .int(600, 1)
      .describe(
        'Maximum age of auth_time, in seconds, for a beneficiary change (both providers); default 600.',
      ),
    AUTH_CLOCK_SKEW_SECONDS: z.coerce
      .number({ error: 'must be a number' })
      .int()
      .min(0)
      .max(300)
      .default(60)
      .describe('Tolerance for exp/nbf/iat, in seconds (0–300); default 60.'),
    AUTH_MAX_TOKEN_LIFETIME_SECONDS: z.coerce
      .number({ error: 'must be a number' })
      .int()
      .min(MIN_MAX_TOKEN_LIFETIME_SECONDS)
      .max(MAX_MAX_TOKEN_LIFETIME_SECONDS)
      .default(DEFAULT_MAX_TOKEN_LIFETIME_SECONDS)
      .describe(
        'Longest accepted access-token lifetime, exp - (nbf or iat), in seconds (300–604800); default 86400 (24 h, the longest Entra ID / B2C access token). Longer-lived tokens get 401 invalid_token.',
      ),
    // describe() makes a new schema, so it goes inside devOnly (whose registry holds the instance).
    AUTH_ALLOW_INSECURE_HTTP: devOnly(
      env
        .bool(false)
        .describe(
          'Allow http: identity metadata URLs (local stand-ins only); refused with NODE_ENV=production; default false.',
        ),
      { why: 'plain-http identity metadata is for local stand-ins' },
    ),
    OUTBOX_INTERVAL_MS: env
      .int(250, 10)
      .describe('Outbox relay polling interval, in milliseconds (at least 10); default 250.'),
  })
  // Runs even when other variables failed, so a missing provider is reported in the same pass.
  .superRefine(
    (c, ctx) => {
      if (c.B2C_IDENTITY_METADATA === undefined && c.EXTERNAL_ID_TENANT_ID === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['B2C_IDENTITY_METADATA'],
          message: 'is required but not set (or configure External ID: EXTERNAL_ID_TENANT_ID)',
        });
      }
    },
    { when: () => true },
  )
  .superRefine((c, ctx) => {
    const problem = (variable: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: [variable], message });
    const externalId = c.EXTERNAL_ID_TENANT_ID !== undefined;
    if (externalId && !c.EXTERNAL_ID_METADATA && !c.EXTERNAL_ID_SUBDOMAIN) {
      problem(
        'EXTERNAL_ID_SUBDOMAIN',
        'is required with EXTERNAL_ID_TENANT_ID (or set EXTERNAL_ID_METADATA)',
      );
    }
    if (!externalId) {
      for (const v of [
        'EXTERNAL_ID_SUBDOMAIN',
        'EXTERNAL_ID_METADATA',
        'EXTERNAL_ID_AUDIENCE',
        'LEGACY_OBJECT_ID_CLAIM',
      ] as const) {
        if (c[v] !== undefined) problem(v, 'only applies with EXTERNAL_ID_TENANT_ID (External ID)');
      }
    }
    // Defensive: these checks may see values whose own rules failed.
    const insecure = (urls: unknown) =>
      c.AUTH_ALLOW_INSECURE_HTTP !== true &&
      Array.isArray(urls) &&
      urls.some((u) => String(u).startsWith('http:'));
    const https = 'must use https (AUTH_ALLOW_INSECURE_HTTP=true for local stand-ins)';
    if (insecure(c.B2C_IDENTITY_METADATA)) problem('B2C_IDENTITY_METADATA', https);
    if (insecure(c.EXTERNAL_ID_METADATA ? [c.EXTERNAL_ID_METADATA] : []))
      problem('EXTERNAL_ID_METADATA', https);
    if (insecure(c.APP_IDENTITY_METADATA)) problem('APP_IDENTITY_METADATA', https);
  });
export type PolicyApiConfig = z.infer<typeof envSchema>;
export const loadPolicyApiConfig = (e: NodeJS.ProcessEnv = process.env): PolicyApiConfig =>
  loadConfig(envSchema, e);

/** The validated configuration, injected with `@Inject(POLICY_API_CONFIG)`. */
export const POLICY_API_CONFIG = Symbol('POLICY_API_CONFIG');

/** The External ID tenant policy-api trusts, if any (metadata URL resolved). */
export function externalIdOf(
  c: PolicyApiConfig,
): { tenantId: string; metadataUrl: string } | undefined {
  if (!c.EXTERNAL_ID_TENANT_ID) return undefined;
  const metadataUrl =
    c.EXTERNAL_ID_METADATA ??
    externalIdMetadataUrl({
      subdomain: c.EXTERNAL_ID_SUBDOMAIN ?? '',
      tenantId: c.EXTERNAL_ID_TENANT_ID,
    });
  return { tenantId: c.EXTERNAL_ID_TENANT_ID.toLowerCase(), metadataUrl };
}
