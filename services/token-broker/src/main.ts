// First: the OpenTelemetry SDK hooks require() before anything it instruments is loaded.
import '@idp/service-kit/telemetry';
import 'reflect-metadata';
import { bootService } from '@idp/service-kit';
import { AppModule } from './app.module';
import { checkFederatedTokenFile, loadTokenBrokerConfig } from './config';

void bootService({
  name: 'token-broker',
  loadConfig: () => {
    const c = loadTokenBrokerConfig();
    checkFederatedTokenFile(c);
    return c;
  },
  module: (c) => AppModule.forRoot(c),
});
