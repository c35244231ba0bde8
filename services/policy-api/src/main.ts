// First: the OpenTelemetry SDK hooks require() before anything it instruments is loaded.
import '@idp/service-kit/telemetry';
import 'reflect-metadata';
import { bootService } from '@idp/service-kit';
import { AppModule } from './app.module';
import { loadPolicyApiConfig } from './config';
import { configureApp } from './configure';

void bootService({
  name: 'policy-api',
  loadConfig: () => loadPolicyApiConfig(),
  module: (c) => AppModule.forRoot(c),
  configure: (app, config) => {
    configureApp(app, config.API_BASE_PATH);
  },
});
