import {
  Logger,
  Module,
  type DynamicModule,
  type InjectionToken,
  type ModuleMetadata,
  type OnApplicationBootstrap,
  type OptionalFactoryDependency,
  type Provider,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { Passport } from 'passport';
import { resolveAuthOptions } from '../auth-options';
import { TokenValidator } from '../token-validator';
import { AUTH_MODULE_OPTIONS, AUTH_PASSPORT } from './auth.constants';
import type { AuthModuleOptions } from './auth-module-options';
import { AuthorizationGuard } from './authorization.guard';
import { AzureAdJwtStrategy } from './azure-ad-jwt.strategy';
import { BearerExceptionFilter } from './bearer-exception.filter';
import { GlobalAuthGuard } from './global-auth.guard';
import { JwtAuthGuard } from './jwt-auth.guard';

export interface AuthModuleAsyncOptions {
  imports?: ModuleMetadata['imports'];
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
  useFactory: (...args: never[]) => AuthModuleOptions | Promise<AuthModuleOptions>;
}

const logger = new Logger('AuthModule');

function checked(options: AuthModuleOptions): AuthModuleOptions {
  resolveAuthOptions(options); // throws AuthConfigError at boot on a bad config
  return options;
}

/** Loads signing keys at boot without delaying it; failures are retried on demand. */
class SigningKeysWarmup implements OnApplicationBootstrap {
  constructor(private readonly validator: TokenValidator) {}

  onApplicationBootstrap(): void {
    void this.validator.warmUp().then(() => {
      if (this.validator.keyStats().kids.length === 0) {
        logger.warn('no signing keys loaded yet; retrying on the first request');
      }
    });
  }
}

/**
 * Registers the passport strategy, the guards, the RFC 6750 exception filter
 * and a {@link TokenValidator}. Global, so the decorators work in any module.
 */
@Module({})
export class AuthModule {
  static forRoot(options: AuthModuleOptions): DynamicModule {
    return AuthModule.create({ provide: AUTH_MODULE_OPTIONS, useValue: checked(options) }, []);
  }

  static forRootAsync(options: AuthModuleAsyncOptions): DynamicModule {
    const factory = options.useFactory as (
      ...args: unknown[]
    ) => AuthModuleOptions | Promise<AuthModuleOptions>;
    return AuthModule.create(
      {
        provide: AUTH_MODULE_OPTIONS,
        inject: options.inject ?? [],
        useFactory: async (...args: unknown[]) => checked(await factory(...args)),
      },
      options.imports ?? [],
    );
  }

  private static create(
    optionsProvider: Provider,
    imports: NonNullable<ModuleMetadata['imports']>,
  ): DynamicModule {
    return {
      module: AuthModule,
      global: true,
      imports,
      providers: [
        optionsProvider,
        {
          provide: TokenValidator,
          inject: [AUTH_MODULE_OPTIONS],
          useFactory: (o: AuthModuleOptions) =>
            new TokenValidator({
              ...o,
              onRejected: (event) => {
                logger.debug(`access token rejected: ${event.reason}`);
                o.onRejected?.(event);
              },
            }),
        },
        { provide: AUTH_PASSPORT, useFactory: () => new Passport() },
        {
          provide: SigningKeysWarmup,
          inject: [TokenValidator],
          useFactory: (v: TokenValidator) => new SigningKeysWarmup(v),
        },
        AzureAdJwtStrategy,
        JwtAuthGuard,
        AuthorizationGuard,
        GlobalAuthGuard,
        { provide: APP_GUARD, useExisting: GlobalAuthGuard },
        { provide: APP_FILTER, useClass: BearerExceptionFilter },
      ],
      exports: [
        AUTH_MODULE_OPTIONS,
        AUTH_PASSPORT,
        TokenValidator,
        AzureAdJwtStrategy,
        JwtAuthGuard,
        AuthorizationGuard,
      ],
    };
  }
}
