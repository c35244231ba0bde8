import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AuthModule } from '@idp/auth-common';
import { ServiceKitModule } from '@idp/service-kit';
import { join } from 'node:path';
import { AppHttpErrorFilter } from './admin/admin-errors';
import {
  AuditAdminController,
  CleanupAdminController,
  DirectoriesAdminController,
  DirectoryAdminController,
  ProvisioningLogAdminController,
  SchemasAdminController,
  TokensAdminController,
} from './admin/admin.controllers';
import { AuditRepository } from './admin/audit.repository';
import { CleanupRepository } from './cleanup/cleanup.repository';
import { CleanupScheduler } from './cleanup/cleanup.scheduler';
import { CleanupService } from './cleanup/cleanup.service';
import { SCIM_CONFIG, type ScimConfig } from './config';
import { DatabaseShutdown } from './db/database-shutdown';
import { PrismaService } from './db/prisma.service';
import {
  ResourceTypesController,
  SchemasController,
  ServiceProviderConfigController,
} from './discovery/discovery.controllers';
import { OutboxRelayService } from './events/outbox-relay.service';
import { GroupsController } from './groups/groups.controller';
import { GroupsRepository } from './groups/groups.repository';
import { GroupsService } from './groups/groups.service';
import { ProvisioningLogRepository } from './provisioning-log/provisioning-log.repository';
import { ProvisioningLogService } from './provisioning-log/provisioning-log.service';
import { RootSearchController } from './search/root-search.controller';
import { UnmatchedScimController } from './scim/unmatched-scim.controller';
import { DirectoriesRepository } from './tokens/directories.repository';
import { DirectoriesService } from './tokens/directories.service';
import { RateLimiter } from './tokens/rate-limiter';
import { ScimAuthGuard } from './tokens/scim-auth.guard';
import { TokenExpiryService } from './tokens/token-expiry.service';
import {
  INVALIDATION_LISTENER_OPTIONS,
  TokenInvalidationListener,
  type InvalidationListenerOptions,
} from './tokens/token-invalidation';
import { TokensRepository } from './tokens/tokens.repository';
import { TokensService } from './tokens/tokens.service';
import { UsersController } from './users/users.controller';
import { UsersRepository } from './users/users.repository';
import { UsersService } from './users/users.service';

export interface AppModuleOptions {
  /** Background jobs (relay, cleanup, token expiry); tests drive them by hand. Default true. */
  background?: boolean;
  /** The revocation listener's reconnect tuning (tests shorten the stable period); defaults otherwise. */
  invalidation?: InvalidationListenerOptions;
}

@Module({})
export class AppModule {
  static forRoot(config: ScimConfig, o: AppModuleOptions = {}): DynamicModule {
    const admin = !!config.SCIM_ADMIN_IDENTITY_METADATA;
    const providers: Provider[] = [
      { provide: SCIM_CONFIG, useValue: config },
      // Data access: PrismaService is the one Prisma client; repositories own all SQL and Prisma calls.
      PrismaService,
      DirectoriesRepository,
      TokensRepository,
      UsersRepository,
      GroupsRepository,
      ProvisioningLogRepository,
      CleanupRepository,
      AuditRepository,
      // Clears the token and directory caches when another replica or the CLI revokes or changes.
      TokenInvalidationListener,
      { provide: INVALIDATION_LISTENER_OPTIONS, useValue: o.invalidation ?? {} },
      // Use cases and background jobs.
      DirectoriesService,
      TokensService,
      RateLimiter,
      ScimAuthGuard,
      UsersService,
      GroupsService,
      ProvisioningLogService,
      CleanupService,
      TokenExpiryService,
      OutboxRelayService,
      // Bounds the database work of a shutdown (after the providers it orders itself before).
      DatabaseShutdown,
      // Failures before any controller: the admin error shape under /admin, the SCIM error schema
      // under the SCIM base; the root module's, so consulted last.
      { provide: APP_FILTER, useClass: AppHttpErrorFilter },
    ];
    if (o.background !== false) providers.push(CleanupScheduler);
    return {
      module: AppModule,
      imports: [
        ServiceKitModule.forRoot({
          service: 'scim',
          config,
          streams: ['SCIM'],
          migrationsDir: join(__dirname, '..', 'prisma', 'migrations'),
        }),
        // Admin endpoints need an Entra ID app role; without an identity provider configured they do not exist.
        ...(admin
          ? [
              AuthModule.forRoot({
                identityMetadata: config.SCIM_ADMIN_IDENTITY_METADATA as string,
                audience: config.SCIM_ADMIN_AUDIENCE,
                allowInsecureHttp: config.SCIM_ADMIN_ALLOW_INSECURE_HTTP,
                realm: 'scim-admin',
              }),
            ]
          : []),
      ],
      controllers: [
        UsersController,
        GroupsController,
        ServiceProviderConfigController,
        SchemasController,
        ResourceTypesController,
        RootSearchController,
        ...(admin
          ? [
              DirectoriesAdminController,
              DirectoryAdminController,
              TokensAdminController,
              AuditAdminController,
              ProvisioningLogAdminController,
              SchemasAdminController,
              CleanupAdminController,
            ]
          : []),
        // Last: the catch-all under the SCIM base (404 / 405 in the SCIM error schema).
        UnmatchedScimController,
      ],
      providers,
    };
  }
}
