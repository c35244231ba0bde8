import { type DynamicModule, Module } from '@nestjs/common';
import { ServiceKitModule } from '@idp/service-kit';
import { BROKER_CONFIG, BrokerLifecycle } from './broker/broker.lifecycle';
import type { TokenBrokerConfig } from './config';

@Module({})
export class AppModule {
  static forRoot(config: TokenBrokerConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceKitModule.forRoot({
          service: 'token-broker',
          // No database: service-kit's option type still names the DB keys, so they are stubbed.
          config,
          streams: ['TOKENS'],
          database: false,
        }),
      ],
      providers: [{ provide: BROKER_CONFIG, useValue: config }, BrokerLifecycle],
    };
  }
}
