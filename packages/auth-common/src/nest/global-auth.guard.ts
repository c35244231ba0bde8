import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AUTH_MODULE_OPTIONS, IS_PUBLIC_KEY } from './auth.constants';
import type { AuthModuleOptions } from './auth-module-options';
import { AuthorizationGuard } from './authorization.guard';
import { JwtAuthGuard } from './jwt-auth.guard';

/**
 * Registered as APP_GUARD by AuthModule; active only with `globalGuards: true`.
 * Then every HTTP route needs a valid token unless marked @Public(). Other
 * transports (NATS handlers in hybrid apps) are left alone.
 */
@Injectable()
export class GlobalAuthGuard implements CanActivate {
  constructor(
    @Inject(AUTH_MODULE_OPTIONS) private readonly options: AuthModuleOptions,
    private readonly reflector: Reflector,
    private readonly jwt: JwtAuthGuard,
    private readonly authorization: AuthorizationGuard,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!this.options.globalGuards || context.getType() !== 'http') return true;
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    return (await this.jwt.canActivate(context)) && this.authorization.canActivate(context);
  }
}
