import { type DynamicModule, Module } from '@nestjs/common';
import { ServiceKitModule } from '@idp/service-kit';
import { join } from 'node:path';
import type { PolicyApiConfig } from './config';

@Module({})
export class AppModule {
  static forRoot(config: PolicyApiConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceKitModule.forRoot({
          service: 'policy-api',
          config,
          streams: ['POLICY'],
          migrationsDir: join(__dirname, '..', 'prisma', 'migrations'),
        }),
      ],
    };
  }
}
