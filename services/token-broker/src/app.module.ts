import { type DynamicModule, Module } from '@nestjs/common';
import { ServiceKitModule } from '@idp/service-kit';
import { BrokerLifecycle } from './broker/broker.lifecycle';
import { BrokerModule } from './broker/broker.module';
import type { TokenBrokerConfig } from './config';

@Module({})
export class AppModule {
  static forRoot(config: TokenBrokerConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        // No database: the broker keeps nothing but in-memory caches.
        ServiceKitModule.forRoot({
          service: 'token-broker',
          config,
          streams: ['TOKENS'],
          database: false,
        }),
        BrokerModule.forRoot(config),
      ],
      providers: [BrokerLifecycle],
    };
  }
}
