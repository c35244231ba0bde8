import { type DynamicModule, Module } from '@nestjs/common';
import { ServiceKitModule } from '@idp/service-kit';
import { join } from 'node:path';
import type { PortalConfig } from './config';
import { PortalModule } from './portal.module';

@Module({})
export class AppModule {
  static forRoot(config: PortalConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceKitModule.forRoot({
          service: 'portal',
          config,
          // The portal publishes and subscribes to nothing: no NATS user, connection or readiness check.
          nats: false,
          migrationsDir: join(__dirname, '..', 'prisma', 'migrations'),
        }),
        PortalModule.forRoot(config),
      ],
    };
  }
}
