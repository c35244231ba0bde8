// First: the OpenTelemetry SDK hooks require() before anything it instruments is loaded.
import '@idp/service-kit/telemetry';
import 'reflect-metadata';
import { bootService } from '@idp/service-kit';
import { AppModule } from './app.module';
import { loadScimConfig } from './config';
import { configureScimApp } from './scim/configure-app';
import { scimAppOptions } from './scim/router-errors';

void bootService({
  name: 'scim',
  loadConfig: () => loadScimConfig(),
  module: (c) => AppModule.forRoot(c),
  configure: (app, c) => configureScimApp(app, c),
  appOptions: scimAppOptions,
});
