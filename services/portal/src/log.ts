import { createRootLogger } from '@idp/service-kit';
import type { Provider } from '@nestjs/common';
import { PORTAL_CONFIG, type PortalConfig } from './config';

/** The portal's logger (pino, as service-kit creates it). */
export type Logger = ReturnType<typeof createRootLogger>;

/** Injection token of the portal's pino logger (JSON lines, the service's LOG_LEVEL). */
export const PORTAL_LOG = Symbol('PORTAL_LOG');

export const portalLogProvider: Provider = {
  provide: PORTAL_LOG,
  inject: [PORTAL_CONFIG],
  useFactory: (c: PortalConfig): Logger => createRootLogger('portal', c.LOG_LEVEL),
};
