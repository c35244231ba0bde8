import {
  Module,
  type DynamicModule,
  type OnModuleDestroy,
  type OnModuleInit,
  Inject,
} from '@nestjs/common';
import { createRootLogger } from '@idp/service-kit';
import type { Logger } from 'pino';
import { AuthController } from './auth/auth.controller';
import { AuthService } from './auth/auth.service';
import { B2cAuthority } from './auth/b2c-authority';
import { CustomerAuthority } from './auth/customer-authority';
import { ExternalIdAuthority } from './auth/external-id-authority';
import { MetadataCache } from './auth/metadata-cache';
import { MsalClients } from './auth/msal-clients';
import type { PortalConfig } from './config';
import { PRISMA, prismaProvider } from './db/prisma.provider';
import type { PrismaClient } from './generated/prisma/client';
import { PagesController } from './pages/pages.controller';
import { GraphClient } from './profile/graph-client';
import { ProfileController } from './profile/profile.controller';
import { StaticController } from './pages/static.controller';
import { PolicyClient } from './policy/policy-client';
import { PolicyController } from './policy/policy.controller';
import { StepUpService } from './policy/step-up.service';
import { SessionCipher } from './session/session-cipher';
import { SessionStore } from './session/session-store';

export const PORTAL_CONFIG = Symbol('PORTAL_CONFIG');
export const PORTAL_LOG = Symbol('PORTAL_LOG');

const PURGE_EVERY_MS = 10 * 60 * 1000;

/** Deletes expired session rows now and then (any replica may; it is idempotent). */
class SessionPurger implements OnModuleInit, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  constructor(
    private readonly store: SessionStore,
    @Inject(PORTAL_LOG) private readonly log: Logger,
  ) {}
  onModuleInit(): void {
    this.timer = setInterval(() => {
      this.store.purgeExpired().then(
        (n) => n && this.log.info({ purged: n }, 'expired sessions purged'),
        (e: unknown) => this.log.warn({ err: e }, 'session purge failed'),
      );
    }, PURGE_EVERY_MS);
    this.timer.unref();
  }
  onModuleDestroy(): void {
    clearInterval(this.timer);
  }
}

@Module({})
export class PortalModule {
  static forRoot(config: PortalConfig): DynamicModule {
    return {
      module: PortalModule,
      controllers: [
        StaticController,
        PagesController,
        AuthController,
        PolicyController,
        ProfileController,
      ],
      providers: [
        { provide: PORTAL_CONFIG, useValue: config },
        { provide: PORTAL_LOG, useFactory: () => createRootLogger('portal', config.LOG_LEVEL) },
        prismaProvider,
        {
          provide: SessionStore,
          inject: [PRISMA],
          useFactory: (prisma: PrismaClient) =>
            new SessionStore(
              prisma,
              new SessionCipher([
                config.SESSION_ENCRYPTION_KEY,
                ...config.SESSION_ENCRYPTION_KEYS_PREVIOUS,
              ]),
              {
                idleSeconds: config.SESSION_IDLE_TIMEOUT_SECONDS,
                absoluteSeconds: config.SESSION_ABSOLUTE_TIMEOUT_SECONDS,
              },
            ),
        },
        SessionPurger,
        {
          provide: CustomerAuthority,
          useFactory: () =>
            config.CUSTOMER_IDENTITY_PROVIDER === 'external-id'
              ? new ExternalIdAuthority(config)
              : new B2cAuthority(config),
        },
        {
          provide: MetadataCache,
          inject: [CustomerAuthority],
          useFactory: (a: CustomerAuthority) => new MetadataCache(a),
        },
        {
          provide: MsalClients,
          inject: [CustomerAuthority, MetadataCache, PORTAL_LOG],
          useFactory: (a: CustomerAuthority, m: MetadataCache, log: Logger) =>
            new MsalClients(config, a, m, log),
        },
        {
          provide: AuthService,
          inject: [CustomerAuthority, MetadataCache, MsalClients, PORTAL_LOG],
          useFactory: (a: CustomerAuthority, m: MetadataCache, c: MsalClients, log: Logger) =>
            new AuthService(config, a, m, c, log),
        },
        {
          provide: PolicyClient,
          useFactory: () => new PolicyClient(config.POLICY_API_URL, config.POLICY_API_TIMEOUT_MS),
        },
        {
          provide: GraphClient,
          useFactory: () => new GraphClient(config.GRAPH_BASE_URL, config.POLICY_API_TIMEOUT_MS),
        },
        {
          provide: StepUpService,
          inject: [AuthService, CustomerAuthority, PolicyClient],
          useFactory: (auth: AuthService, a: CustomerAuthority, api: PolicyClient) =>
            new StepUpService(auth, a, api),
        },
      ],
      exports: [SessionStore, PORTAL_LOG],
    };
  }
}
