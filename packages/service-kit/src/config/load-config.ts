import { z } from 'zod';
import { devOnlyProblems } from './dev-only';

/** Raised at boot when the environment is wrong; the message names each variable and its problem. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment with a zod object schema whose keys are variable names. */
export function loadConfig<T extends z.ZodObject>(
  schema: T,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<T> {
  const r = schema.safeParse(env);
  if (r.success) {
    // NODE_ENV defaults to production, so a forgotten NODE_ENV refuses dev switches too.
    const refused = devOnlyProblems(schema, r.data as Record<string, unknown>);
    if (refused.length > 0) throw new ConfigError(refused);
    return r.data;
  }
  const problems = r.error.issues.map((i) => {
    const name = i.path.join('.') || '(environment)';
    const value = i.path.length === 1 ? env[String(i.path[0])] : undefined;
    const why =
      value === undefined && i.code === 'invalid_type' ? 'is required but not set' : i.message;
    return `${name}: ${why}`;
  });
  throw new ConfigError(problems);
}
