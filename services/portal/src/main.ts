// First: the OpenTelemetry SDK hooks require() before anything it instruments is loaded.
import '@idp/service-kit/telemetry';
import 'reflect-metadata';
import { bootService } from '@idp/service-kit';
import { AppModule } from './app.module';
import { loadPortalConfig } from './config';
import { portalAppOptions } from './errors/router-errors';
import { configurePortal } from './web/configure';

void bootService({
  name: 'portal',
  loadConfig: () => loadPortalConfig(),
  module: (c) => AppModule.forRoot(c),
  configure: configurePortal,
  appOptions: portalAppOptions,
});
