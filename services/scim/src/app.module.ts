import { type DynamicModule, Module } from '@nestjs/common';
import { ServiceKitModule } from '@idp/service-kit';
import { join } from 'node:path';
import type { ScimConfig } from './config';

@Module({})
export class AppModule {
  static forRoot(config: ScimConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceKitModule.forRoot({
          service: 'scim',
          config,
          streams: ['SCIM'],
          migrationsDir: join(__dirname, '..', 'prisma', 'migrations'),
        }),
      ],
    };
  }
}
