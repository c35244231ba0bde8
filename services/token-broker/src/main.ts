// First: the OpenTelemetry SDK hooks require() before anything it instruments is loaded.
import '@idp/service-kit/telemetry';
import 'reflect-metadata';
import { bootService } from '@idp/service-kit';
import { AppModule } from './app.module';
import { loadTokenBrokerConfig } from './config';

void bootService({
  name: 'token-broker',
  loadConfig: () => loadTokenBrokerConfig(),
  module: (c) => AppModule.forRoot(c),
});
