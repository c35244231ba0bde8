import { commonEnvShape, env, loadConfig } from '@idp/service-kit';
import { z } from 'zod';

export const tokenBrokerEnv = z.object({
  ...commonEnvShape,
  PORT: env.port(3003),
});
export type TokenBrokerConfig = z.infer<typeof tokenBrokerEnv>;
export const loadTokenBrokerConfig = (e: NodeJS.ProcessEnv = process.env): TokenBrokerConfig => loadConfig(tokenBrokerEnv, e);
