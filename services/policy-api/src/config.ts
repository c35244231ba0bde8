import { commonEnvShape, devOnly, env, loadConfig } from '@idp/service-kit';
import { z } from 'zod';

const urlList = (what: string) =>
  z
    .string({ error: 'is required but not set' })
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .refine((list) => list.length > 0, { message: `must list at least one ${what}` })
    .refine(
      (list) =>
        list.every((u) => {
          try {
            return ['https:', 'http:'].includes(new URL(u).protocol);
          } catch {
            return false;
          }
        }),
      { message: `must be a comma-separated list of ${what} URLs` },
    );

export const policyApiEnv = z
  .object({
    ...commonEnvShape,
    PORT: env.port(3001),
    /** Path prefix of every API route (e.g. /api behind an ingress that does not rewrite); probes stay at /. */
    API_BASE_PATH: z
      .string()
      .regex(/^(\/[A-Za-z0-9._~-]+)*$/, { message: 'must be empty or a path like /api (no trailing slash)' })
      .default(''),
    /** OpenID metadata URL of each accepted B2C user flow (sign-in and MFA flows). */
    B2C_IDENTITY_METADATA: urlList('B2C metadata'),
    /** Entra / tenant metadata URLs whose app-only (client-credentials) tokens are accepted. */
    APP_IDENTITY_METADATA: z
      .string()
      .default('')
      .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean)),
    /** Accepted `aud` values: this API's client id and/or its identifier URIs. */
    API_AUDIENCE: z
      .string({ error: 'is required but not set' })
      .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
      .refine((l) => l.length > 0, { message: 'must list at least one audience' }),
    STEP_UP_USER_FLOWS: env.list().default(['B2C_1_signupsignin_mfa']),
    STEP_UP_MAX_AGE_SECONDS: env.int(600, 1),
    AUTH_CLOCK_SKEW_SECONDS: z.coerce.number({ error: 'must be a number' }).int().min(0).max(300).default(60),
    /** Plain-http metadata (local stand-ins only); refused in production. */
    AUTH_ALLOW_INSECURE_HTTP: devOnly(env.bool(false), { why: 'plain-http identity metadata is for local stand-ins' }),
    OUTBOX_INTERVAL_MS: env.int(250, 10),
  })
  .superRefine((c, ctx) => {
    const urls = [...c.B2C_IDENTITY_METADATA, ...c.APP_IDENTITY_METADATA];
    if (!c.AUTH_ALLOW_INSECURE_HTTP && urls.some((u) => u.startsWith('http:'))) {
      ctx.addIssue({ code: 'custom', path: ['B2C_IDENTITY_METADATA'], message: 'must use https (AUTH_ALLOW_INSECURE_HTTP=true for local stand-ins)' });
    }
  });
export type PolicyApiConfig = z.infer<typeof policyApiEnv>;
export const loadPolicyApiConfig = (e: NodeJS.ProcessEnv = process.env): PolicyApiConfig => loadConfig(policyApiEnv, e);
