import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { AuthModule } from '@idp/auth-common';
import { ServiceKitModule } from '@idp/service-kit';
import { join } from 'node:path';
import { authModuleOptions } from './auth/auth-options';
import { BeneficiariesController } from './beneficiaries/beneficiaries.controller';
import { BeneficiariesRepository } from './beneficiaries/beneficiaries.repository';
import { BeneficiariesService } from './beneficiaries/beneficiaries.service';
import { StepUpCheck } from './auth/step-up';
import { ErrorShapeFilter } from './common/error-shape.filter';
import { validationPipe } from './common/validation';
import { POLICY_API_CONFIG, type PolicyApiConfig } from './config';
import { PrismaService } from './database/prisma.service';
import { HistoryController } from './history/history.controller';
import { HistoryRepository } from './history/history.repository';
import { HistoryService } from './history/history.service';
import { IdentityLinkRepository } from './identity/identity-link.repository';
import { IdentityLinkService } from './identity/identity-link.service';
import { OutboxRelayService } from './outbox/outbox-relay.service';
import { PoliciesController } from './policies/policies.controller';
import { PoliciesService } from './policies/policies.service';
import { PolicyRepository } from './policies/policy.repository';
import { PublicController } from './public/public.controller';

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
        AuthModule.forRoot(authModuleOptions(config)),
      ],
      controllers: [
        PublicController,
        PoliciesController,
        BeneficiariesController,
        HistoryController,
      ],
      providers: [
        { provide: APP_PIPE, useFactory: validationPipe },
        { provide: APP_FILTER, useClass: ErrorShapeFilter },
        { provide: POLICY_API_CONFIG, useValue: config },
        // Repositories: the only code with SQL (pg pool) or Prisma calls.
        PrismaService,
        PolicyRepository,
        BeneficiariesRepository,
        HistoryRepository,
        IdentityLinkRepository,
        // Use cases.
        IdentityLinkService,
        PoliciesService,
        BeneficiariesService,
        StepUpCheck,
        HistoryService,
        OutboxRelayService,
      ],
    };
  }
}
