import { commonEnvShape, env, loadConfig } from '@idp/service-kit';
import { z } from 'zod';

export const portalEnv = z.object({
  ...commonEnvShape,
  PORT: env.port(3000),
});
export type PortalConfig = z.infer<typeof portalEnv>;
export const loadPortalConfig = (e: NodeJS.ProcessEnv = process.env): PortalConfig => loadConfig(portalEnv, e);
