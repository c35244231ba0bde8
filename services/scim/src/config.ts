import { commonEnvShape, env, loadConfig } from '@idp/service-kit';
import { z } from 'zod';

export const scimEnv = z.object({
  ...commonEnvShape,
  PORT: env.port(3002),
});
export type ScimConfig = z.infer<typeof scimEnv>;
export const loadScimConfig = (e: NodeJS.ProcessEnv = process.env): ScimConfig => loadConfig(scimEnv, e);
