import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Authenticator } from 'passport';
import type { Principal } from '../principal';
import { AUTH_PASSPORT, AZURE_AD_JWT_STRATEGY } from './auth.constants';
import { AzureAdJwtStrategy } from './azure-ad-jwt.strategy';
import { BearerAuthException } from './bearer-auth.exception';
import { getRequestPrincipal, setRequestPrincipal } from './request-principal';

/** Authenticates the bearer token through the passport strategy and attaches the principal. */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    @Inject(AUTH_PASSPORT) private readonly passport: Authenticator,
    // Injected so the strategy exists (and is registered) before the first request.
    readonly strategy: AzureAdJwtStrategy,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return false;
    const http = context.switchToHttp();
    const request: unknown = http.getRequest();
    // Already done by another instance of this guard (global + route).
    if (getRequestPrincipal(request)) return true;
    const principal = await this.authenticate(request, http.getResponse());
    setRequestPrincipal(request, principal);
    return true;
  }

  private authenticate(request: unknown, response: unknown): Promise<Principal> {
    return new Promise<Principal>((resolve, reject) => {
      const middleware = this.passport.authenticate(
        AZURE_AD_JWT_STRATEGY,
        { session: false },
        (err: unknown, user: unknown, info: unknown) => {
          if (err) return reject(err);
          if (!user) {
            return reject(
              info instanceof BearerAuthException ? info : BearerAuthException.missingToken(),
            );
          }
          resolve(user as Principal);
        },
      ) as (req: unknown, res: unknown, next: (err?: unknown) => void) => void;
      middleware(request, response, (err?: unknown) =>
        reject(err ?? BearerAuthException.missingToken()),
      );
    });
  }
}
