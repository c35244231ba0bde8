import { isIP } from 'node:net';
import { z } from 'zod';
import { DEFAULT_TRUSTED_PROXIES } from '../http/limits';

/** Reusable zod pieces for environment variables (strings in, typed values out). */
export const env = {
  port: (def: number) =>
    z.coerce.number({ error: 'must be a port number' }).int().min(0).max(65535).default(def),
  int: (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
    z.coerce
      .number({ error: 'must be a number' })
      .int({ error: 'must be a whole number' })
      .min(min, { error: `must be at least ${min}` })
      .max(max, { error: `must be at most ${max}` })
      .default(def),
  bool: (def: boolean) =>
    z
      .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
      .default(def ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1'),
  url: (protocols: string[]) =>
    z.string({ error: 'is required but not set' }).refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol.replace(':', ''));
        } catch {
          return false;
        }
      },
      { message: `must be a URL (${protocols.join(', ')})` },
    ),
  list: () =>
    z.string().transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  /**
   * Peers whose X-Forwarded-* headers are believed: comma-separated IPs, CIDRs or proxy-addr's
   * names (loopback, linklocal, uniquelocal); unset: loopback and private ranges; `none`: nobody.
   * Checked here, at boot: Fastify's proxy-addr would otherwise throw on the first request.
   */
  trustedProxies: () =>
    z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined || v.trim() === '') return [...DEFAULT_TRUSTED_PROXIES];
        const entries = v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        if (entries.length === 1 && entries[0]!.toLowerCase() === 'none') return [];
        for (const entry of entries)
          if (!isProxyEntry(entry))
            ctx.addIssue({
              code: 'custom',
              message: `"${entry}" is not an IP address, a CIDR (10.0.0.0/8, fd00::/8), loopback, linklocal or uniquelocal ("none" alone trusts nobody)`,
            });
        return entries;
      }),
  logLevel: () =>
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An entry proxy-addr compiles: a name it knows, an IP, or an IP with a prefix length in range. */
function isProxyEntry(entry: string): boolean {
  if (PROXY_NAMES.has(entry)) return true;
  const slash = entry.indexOf('/');
  const ip = slash < 0 ? entry : entry.slice(0, slash);
  const family = isIP(ip);
  if (family === 0) return false;
  if (slash < 0) return true;
  const prefix = entry.slice(slash + 1);
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * Variables every service reads. Each carries its `.describe()` text: the README configuration
 * reference is generated from it (scripts/config-reference.mjs). A service that overrides one
 * (its own PORT default) keeps this description unless it gives its own.
 */
export const commonEnvShape = {
  NODE_ENV: z
    .enum(['development', 'test', 'production'])
    .default('production')
    .describe(
      'Runtime environment: development, test or production; development-only switches are refused in production.',
    ),
  PORT: env.port(3000).describe('HTTP port of the API, /healthz, /readyz and /metrics.'),
  LOG_LEVEL: env
    .logLevel()
    .describe('pino log level: fatal, error, warn, info, debug, trace or silent.'),
  NATS_URL: env
    .url(['nats', 'tls', 'ws', 'wss'])
    .describe('NATS server URL (nats://, tls://, ws:// or wss://), e.g. nats://nats:4222.'),
  NATS_USER: z
    .string()
    .min(1)
    .optional()
    .describe(
      "The service's own NATS user; its subject permissions are set on the server (helm values messaging.permissions) and replies come to _INBOX.<user>.>; unset: connect without a user.",
    ),
  NATS_PASSWORD: z.string().min(1).optional().describe('Password of NATS_USER.'),
  DATABASE_URL: env
    .url(['postgres', 'postgresql'])
    .describe('PostgreSQL connection URL, postgresql://user:pass@host:5432/db.'),
  DATABASE_STATEMENT_TIMEOUT_MS: env
    .int(10000, 0)
    .describe(
      "PostgreSQL statement_timeout of the service's connection pool, in milliseconds: a statement running longer is cancelled and the request answers 503, so one expensive request cannot hold the pool; 0 = no limit (migrations never have one).",
    ),
  MIGRATE_ON_START: env
    .bool(false)
    .describe(
      'Apply pending Prisma migrations at boot (the local stack does; Kubernetes runs them as a Job instead).',
    ),
  TRUSTED_PROXIES: env
    .trustedProxies()
    .describe(
      "Peers whose X-Forwarded-For, -Host and -Proto the service believes (the ingress controller's pods, the local entry proxy): comma-separated IPs or CIDRs (e.g. `10.244.0.0/16,fd00::/8`) or the names loopback, linklocal, uniquelocal; unset: loopback and private ranges; `none`: nobody, so the socket address, Host and scheme always count. A bad entry refuses to start.",
    ),
  SHUTDOWN_TIMEOUT_MS: env
    .int(10000, 100)
    .describe(
      'Deadline in milliseconds for the graceful drain after SIGTERM (HTTP, then NATS, then the database). scim gives running statements half of it to finish before cancelling them.',
    ),
};
export const commonEnv = z.object(commonEnvShape);
export type CommonEnv = z.infer<typeof commonEnv>;
