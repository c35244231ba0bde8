import { z } from 'zod';

/** Reusable zod pieces for environment variables (strings in, typed values out). */
export const env = {
  port: (def: number) =>
    z.coerce.number({ error: 'must be a port number' }).int().min(0).max(65535).default(def),
  int: (def: number, min = 0) =>
    z.coerce.number({ error: 'must be a number' }).int().min(min).default(def),
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
  logLevel: () =>
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};

/** Variables every service reads. */
export const commonEnvShape = {
  NODE_ENV: z.enum(['development', 'test', 'production']).default('production'),
  PORT: env.port(3000),
  LOG_LEVEL: env.logLevel(),
  NATS_URL: env.url(['nats', 'tls', 'ws', 'wss']),
  /** NATS user name/password for this service (per-service users with subject permissions). */
  NATS_USER: z.string().min(1).optional(),
  NATS_PASSWORD: z.string().min(1).optional(),
  DATABASE_URL: env.url(['postgres', 'postgresql']),
  /** Apply pending migrations at start (dev); Kubernetes runs them as a Job instead. */
  MIGRATE_ON_START: env.bool(false),
  SHUTDOWN_TIMEOUT_MS: env.int(10000, 100),
};
export const commonEnv = z.object(commonEnvShape);
export type CommonEnv = z.infer<typeof commonEnv>;
