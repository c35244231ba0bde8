import { externalIdMetadataUrl } from '@idp/auth-common';
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
  /** OpenID metadata URL of each accepted B2C user flow (sign-in and MFA flows). */
  B2C_IDENTITY_METADATA: unsetIfEmpty(urlList('B2C metadata')),
  /** External ID (external tenant) id; every External ID token must carry it as `tid`. */
  EXTERNAL_ID_TENANT_ID: unsetIfEmpty(
    z.string().regex(GUID, { message: 'must be the external tenant id (a GUID)' }),
  ),
  /** Tenant subdomain (`<subdomain>.ciamlogin.com`), used to build the metadata URL. */
  EXTERNAL_ID_SUBDOMAIN: unsetIfEmpty(
    z
      .string()
      .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i, {
        message: 'must be the tenant subdomain, e.g. contosoid',
      }),
  ),
  /** Explicit metadata URL (overrides the one built from the subdomain). */
  EXTERNAL_ID_METADATA: unsetIfEmpty(
    z.string().refine(isHttpUrl, { message: 'must be an http(s) metadata URL' }),
  ),
  /** Accepted `aud` of External ID tokens (the API's app registration in the external tenant); default API_AUDIENCE. */
  EXTERNAL_ID_AUDIENCE: unsetIfEmpty(
    commaList.refine((l) => l.length > 0, { message: 'must list at least one audience' }),
  ),
  /** Claim carrying a migrated user's former B2C object id; unset: no identity is ever linked. */
  LEGACY_OBJECT_ID_CLAIM: unsetIfEmpty(
    z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_.:-]{0,127}$/, {
        message: 'must be a claim name, e.g. extn.legacyB2cObjectId',
      }),
  ),
  /** Conditional Access authentication context External ID tokens need (`acrs`) for a beneficiary change. */
  STEP_UP_AUTH_CONTEXT: z
    .string()
    .regex(/^c([1-9]|[1-9][0-9])$/i, { message: 'must be an authentication context id c1 … c99' })
    .default('c1'),
};

export const policyApiEnv = z
  .object({
    ...commonEnvShape,
    PORT: env.port(3001),
    /** Path prefix of every API route (e.g. /api behind an ingress that does not rewrite); probes stay at /. */
    API_BASE_PATH: z
      .string()
      .regex(/^(\/[A-Za-z0-9._~-]+)*$/, {
        message: 'must be empty or a path like /api (no trailing slash)',
      })
      .default(''),
    ...identityShape,
    /** Entra / tenant metadata URLs whose app-only (client-credentials) tokens are accepted. */
    APP_IDENTITY_METADATA: commaList.default([]),
    /** Accepted `aud` values: this API's client id and/or its identifier URIs. */
    API_AUDIENCE: z
      .string({ error: 'is required but not set' })
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
      .refine((l) => l.length > 0, { message: 'must list at least one audience' }),
    STEP_UP_USER_FLOWS: env.list().default(['B2C_1_signupsignin_mfa']),
    STEP_UP_MAX_AGE_SECONDS: env.int(600, 1),
    AUTH_CLOCK_SKEW_SECONDS: z.coerce
      .number({ error: 'must be a number' })
      .int()
      .min(0)
      .max(300)
      .default(60),
    /** Plain-http metadata (local stand-ins only); refused in production. */
    AUTH_ALLOW_INSECURE_HTTP: devOnly(env.bool(false), {
      why: 'plain-http identity metadata is for local stand-ins',
    }),
    OUTBOX_INTERVAL_MS: env.int(250, 10),
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
export type PolicyApiConfig = z.infer<typeof policyApiEnv>;
export const loadPolicyApiConfig = (e: NodeJS.ProcessEnv = process.env): PolicyApiConfig =>
  loadConfig(policyApiEnv, e);

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
