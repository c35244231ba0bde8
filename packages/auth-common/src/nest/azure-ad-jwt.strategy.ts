import { Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Authenticator } from 'passport';
import type { Principal } from '../principal';
import { InvalidTokenError, KeySourceUnavailableError } from '../token-errors';
import { TokenValidator } from '../token-validator';
import { AUTH_PASSPORT, AZURE_AD_JWT_STRATEGY } from './auth.constants';
import { BearerAuthException } from './bearer-auth.exception';
import { BearerTokenStrategy } from './bearer-token.strategy';

/**
 * The @nestjs/passport strategy: bearer token → {@link TokenValidator} → principal.
 * Registered on this module's own passport instance (so two apps in one process
 * don't overwrite each other) and, for `AuthGuard('azure-ad-jwt')`, on the global one.
 */
@Injectable()
export class AzureAdJwtStrategy extends PassportStrategy(
  BearerTokenStrategy,
  AZURE_AD_JWT_STRATEGY,
) {
  constructor(
    private readonly validator: TokenValidator,
    @Inject(AUTH_PASSPORT) passport: Authenticator,
  ) {
    super();
    passport.use(AZURE_AD_JWT_STRATEGY, this);
  }

  async validate(token: string): Promise<Principal> {
    try {
      return await this.validator.validate(token);
    } catch (err) {
      if (err instanceof InvalidTokenError) throw BearerAuthException.invalidToken(err.description);
      if (err instanceof KeySourceUnavailableError) {
        throw new ServiceUnavailableException({
          error: 'temporarily_unavailable',
          error_description: 'Token signing keys are not available yet',
        });
      }
      throw err;
    }
  }
}
