import { commonEnvShape, devOnly, env, loadConfig } from '@idp/service-kit';
import { z } from 'zod';

const optionalUrl = z
  .string()
  .optional()
  .refine((v) => v === undefined || v === '' || /^https?:\/\//.test(v), {
    message: 'must be an http(s) URL',
  })
  .transform((v) => (v ? v : undefined));

/** Hosts a plain-http public base URL may name: a local stack, never a deployment. */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** What is wrong with a SCIM_PUBLIC_BASE_URL value, if anything. */
function publicBaseUrlProblem(v: string): string | undefined {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return 'must be an absolute URL, e.g. https://scim.contoso.example';
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && LOOPBACK.has(u.hostname)))
    return 'must be an https URL (http only for localhost, 127.0.0.1 or [::1])';
  if (u.username || u.password || u.search || u.hash || v.includes('?') || v.includes('#'))
    return 'must have no credentials, query or fragment';
  return undefined;
}

/** The origin and path prefix (if a proxy strips one), without a trailing slash. */
function normalisedBaseUrl(v: string): string {
  const u = new URL(v);
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

/** scim's variables; every one carries its documentation (the README reference is generated from it). */
export const envSchema = z
  .object({
    ...commonEnvShape,
    PORT: env
      .port(3002)
      .describe('HTTP port of the SCIM API, admin API, probes and metrics; default 3002.'),
    SCIM_TOKEN_LIFETIME_DAYS: env
      .int(365, 1)
      .describe(
        'Lifetime of a new SCIM token, in days, unless the request gives lifetimeDays; default 365.',
      ),
    SCIM_MAX_TOKENS_PER_DIRECTORY: env
      .int(5, 1)
      .describe(
        "Default cap on active (unrevoked, unexpired) tokens per directory (a directory's own maxTokens overrides it); creating more answers 409; default 5.",
      ),
    SCIM_TOKEN_WARN_DAYS: env
      .int(30, 0)
      .describe(
        'Warn (log, metric, event) when a token expires within this many days; default 30.',
      ),
    SCIM_TOKEN_CHECK_INTERVAL_MS: env
      .int(3_600_000, 1000)
      .describe('How often token expiry is checked, in milliseconds; default 3600000 (an hour).'),
    SCIM_LOG_RETENTION_DAYS: env
      .int(30, 1)
      .describe(
        'Provisioning-log rows older than this many days are deleted by the cleanup job; default 30.',
      ),
    SCIM_AUDIT_RETENTION_DAYS: env
      .int(365, 0)
      .describe(
        'Admin audit-trail entries (GET /admin/audit) older than this many days are deleted by the cleanup job; 0 keeps them forever; default 365.',
      ),
    SCIM_DEACTIVATED_RETENTION_DAYS: env
      .int(90, 0)
      .describe(
        'Users deactivated longer than this many days are purged by the cleanup job; 0 disables purging; default 90.',
      ),
    SCIM_CLEANUP_INTERVAL_MS: env
      .int(3_600_000, 1000)
      .describe('How often the cleanup job runs, in milliseconds; default 3600000 (an hour).'),
    SCIM_CLEANUP_DRY_RUN: env
      .bool(false)
      .describe('true: the scheduled cleanup job only reports, never purges; default false.'),
    SCIM_MAX_PAGE_SIZE: env
      .int(1000, 1)
      .describe('Largest list count honoured (the aws profile caps at 50); default 1000.'),
    SCIM_BODY_LIMIT_BYTES: env
      .int(16 * 1024 * 1024, 1024)
      .describe(
        'Largest request body, in bytes (a group created with many members); larger answers 413; default 16777216 (16 MiB).',
      ),
    SCIM_RATE_LIMIT_PER_SECOND: env
      .int(0, 0)
      .describe(
        'Per-directory SCIM request rate limit, in requests per second, counted in each replica (so the limit of a deployment is this times its replicas): a request over it answers 429 with Retry-After (ThrottlingException in the aws profile), as IAM Identity Center throttles; Entra pauses for the Retry-After and retries. 0 (default) = no limit.',
      ),
    SCIM_RATE_LIMIT_BURST: env
      .int(0, 0)
      .describe(
        "Requests a directory may send at once before SCIM_RATE_LIMIT_PER_SECOND applies (the token bucket's size); 0 (default) = one second's worth, the rate itself.",
      ),
    SCIM_OUTBOX_INTERVAL_MS: env
      .int(250, 10)
      .describe('Poll interval of the outbox relay, in milliseconds (at least 10); default 250.'),
    SCIM_PUBLIC_BASE_URL: z
      .string()
      .optional()
      .superRefine((v, ctx) => {
        const problem = v ? publicBaseUrlProblem(v) : undefined;
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .transform((v) => (v && !publicBaseUrlProblem(v) ? normalisedBaseUrl(v) : undefined))
      .describe(
        "Public origin of the SCIM API as Entra ID reaches it, e.g. https://scim.contoso.example (http only for localhost): meta.location, members' and groups' $ref and the Location header are built on it, followed by the request's path up to /scim/v2. Unset: built from the request's Host / X-Forwarded-Host, which any client can choose, so for local development only (the Helm chart sets it from the ingress host).",
      ),
    SCIM_ADMIN_IDENTITY_METADATA: optionalUrl.describe(
      'Entra ID OpenID metadata URL (https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration) of the admin API callers; unset: no admin endpoints.',
    ),
    SCIM_ADMIN_AUDIENCE: z
      .string()
      .optional()
      .transform((v) =>
        v
          ? v
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : undefined,
      )
      .describe(
        "Comma-separated accepted audiences of admin tokens: the scim app's client id (v2.0 tokens) and/or App ID URI (v1.0); required with SCIM_ADMIN_IDENTITY_METADATA.",
      ),
    // describe() makes a new schema, so it goes inside devOnly (whose registry holds the instance).
    SCIM_ADMIN_ALLOW_INSECURE_HTTP: devOnly(
      env
        .bool(false)
        .describe(
          'Allow an http: admin identity metadata URL (local stand-ins only); refused with NODE_ENV=production; default false.',
        ),
      { why: 'plain-http identity metadata is for local stand-ins' },
    ),
  })
  .refine((c) => !c.SCIM_ADMIN_IDENTITY_METADATA || !!c.SCIM_ADMIN_AUDIENCE?.length, {
    path: ['SCIM_ADMIN_AUDIENCE'],
    message: 'is required when SCIM_ADMIN_IDENTITY_METADATA is set',
  });
export type ScimConfig = z.infer<typeof envSchema>;
export const loadScimConfig = (e: NodeJS.ProcessEnv = process.env): ScimConfig =>
  loadConfig(envSchema as unknown as z.ZodObject, e) as ScimConfig;

export const SCIM_CONFIG = Symbol('SCIM_CONFIG');
