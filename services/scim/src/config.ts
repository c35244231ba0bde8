import { commonEnvShape, devOnly, env, loadConfig } from '@idp/service-kit';
import { z } from 'zod';

const optionalUrl = z
  .string()
  .optional()
  .refine((v) => v === undefined || v === '' || /^https?:\/\//.test(v), {
    message: 'must be an http(s) URL',
  })
  .transform((v) => (v ? v : undefined));

export const scimEnv = z
  .object({
    ...commonEnvShape,
    PORT: env.port(3002),
    SCIM_TOKEN_LIFETIME_DAYS: env.int(365, 1),
    SCIM_MAX_TOKENS_PER_DIRECTORY: env.int(5, 1),
    SCIM_TOKEN_WARN_DAYS: env.int(30, 0),
    SCIM_TOKEN_CHECK_INTERVAL_MS: env.int(3_600_000, 1000),
    SCIM_LOG_RETENTION_DAYS: env.int(30, 1),
    SCIM_DEACTIVATED_RETENTION_DAYS: env.int(90, 0),
    SCIM_CLEANUP_INTERVAL_MS: env.int(3_600_000, 1000),
    SCIM_CLEANUP_DRY_RUN: env.bool(false),
    SCIM_MAX_PAGE_SIZE: env.int(1000, 1),
    SCIM_BODY_LIMIT_BYTES: env.int(16 * 1024 * 1024, 1024),
    SCIM_OUTBOX_INTERVAL_MS: env.int(250, 10),
    SCIM_ADMIN_IDENTITY_METADATA: optionalUrl,
    /** Comma-separated: the scim app's client id (Entra v2.0 tokens) and/or its App ID URI (v1.0 tokens). */
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
      ),
    /** Plain-http admin identity metadata (local stand-ins only); refused in production. */
    SCIM_ADMIN_ALLOW_INSECURE_HTTP: devOnly(env.bool(false), {
      why: 'plain-http identity metadata is for local stand-ins',
    }),
  })
  .refine((c) => !c.SCIM_ADMIN_IDENTITY_METADATA || !!c.SCIM_ADMIN_AUDIENCE?.length, {
    path: ['SCIM_ADMIN_AUDIENCE'],
    message: 'is required when SCIM_ADMIN_IDENTITY_METADATA is set',
  });
export type ScimConfig = z.infer<typeof scimEnv>;
export const loadScimConfig = (e: NodeJS.ProcessEnv = process.env): ScimConfig =>
  loadConfig(scimEnv as unknown as z.ZodObject, e) as ScimConfig;

export const SCIM_CONFIG = Symbol('SCIM_CONFIG');
