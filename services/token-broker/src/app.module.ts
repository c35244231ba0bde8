import { type DynamicModule, Module } from '@nestjs/common';
import { ServiceKitModule } from '@idp/service-kit';
import { join } from 'node:path';
import type { TokenBrokerConfig } from './config';

@Module({})
export class AppModule {
  static forRoot(config: TokenBrokerConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceKitModule.forRoot({
          service: 'token-broker',
          config,
          streams: ['TOKENS'],
          migrationsDir: join(__dirname, '..', 'prisma', 'migrations'),
        }),
      ],
    };
  }
}
