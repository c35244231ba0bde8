import { commonEnvShape, env, loadConfig } from '@idp/service-kit';
import { z } from 'zod';

export const policyApiEnv = z.object({
  ...commonEnvShape,
  PORT: env.port(3001),
});
export type PolicyApiConfig = z.infer<typeof policyApiEnv>;
export const loadPolicyApiConfig = (e: NodeJS.ProcessEnv = process.env): PolicyApiConfig => loadConfig(policyApiEnv, e);
