import { Module, type DynamicModule } from '@nestjs/common';
import { AuthController } from './auth/auth.controller';
import { AuthService } from './auth/auth.service';
import { B2cAuthority } from './auth/b2c-authority';
import { CustomerAuthority } from './auth/customer-authority';
import { ExternalIdAuthority } from './auth/external-id-authority';
import { MetadataCache } from './auth/metadata-cache';
import { MsalClients } from './auth/msal-clients';
import { PORTAL_CONFIG, type PortalConfig } from './config';
import { PrismaService } from './db/prisma.service';
import { PORTAL_LOG, portalLogProvider } from './log';
import { PagesController } from './pages/pages.controller';
import { StaticController } from './pages/static.controller';
import { PolicyClient } from './policy/policy-client';
import { PolicyController } from './policy/policy.controller';
import { StepUpService } from './policy/step-up.service';
import { GraphClient } from './profile/graph-client';
import { ProfileController } from './profile/profile.controller';
import { SessionCipher } from './session/session-cipher';
import { SessionPurger } from './session/session-purger';
import { SessionStore, type SessionTimeouts } from './session/session-store';
import { SessionRepository } from './session/session.repository';
import { SESSION_KEYS, SESSION_TIMEOUTS } from './session/session.tokens';

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
        portalLogProvider,
        PrismaService,
        {
          // The current key seals, every listed key opens (rotation).
          provide: SESSION_KEYS,
          useFactory: (): string[] => [
            config.SESSION_ENCRYPTION_KEY,
            ...config.SESSION_ENCRYPTION_KEYS_PREVIOUS,
          ],
        },
        {
          provide: SESSION_TIMEOUTS,
          useFactory: (): SessionTimeouts => ({
            idleSeconds: config.SESSION_IDLE_TIMEOUT_SECONDS,
            absoluteSeconds: config.SESSION_ABSOLUTE_TIMEOUT_SECONDS,
          }),
        },
        SessionCipher,
        SessionRepository,
        SessionStore,
        SessionPurger,
        {
          // One customer identity provider at a time (CUSTOMER_IDENTITY_PROVIDER).
          provide: CustomerAuthority,
          useFactory: (): CustomerAuthority =>
            config.CUSTOMER_IDENTITY_PROVIDER === 'external-id'
              ? new ExternalIdAuthority(config)
              : new B2cAuthority(config),
        },
        MetadataCache,
        MsalClients,
        AuthService,
        PolicyClient,
        GraphClient,
        StepUpService,
      ],
      exports: [SessionStore, PORTAL_LOG, CustomerAuthority],
    };
  }
}
