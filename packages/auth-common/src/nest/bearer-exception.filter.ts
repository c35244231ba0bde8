import { Catch, Inject, Optional, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { AUTH_MODULE_OPTIONS } from './auth.constants';
import { BearerAuthException } from './bearer-auth.exception';
import type { AuthModuleOptions } from './auth-module-options';

/** Writes RFC 6750 / RFC 9470 (and claims challenge) responses through the HTTP adapter. */
@Catch(BearerAuthException)
export class BearerExceptionFilter implements ExceptionFilter<BearerAuthException> {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Optional() @Inject(AUTH_MODULE_OPTIONS) private readonly options?: AuthModuleOptions,
  ) {}

  catch(exception: BearerAuthException, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const response: unknown = host.switchToHttp().getResponse();
    const adapter = this.adapterHost.httpAdapter;
    const challenges = exception.wwwAuthenticateValues(this.options?.realm ?? 'api');
    // Several challenges go out as several fields, so each field holds exactly one.
    adapter.setHeader(
      response,
      'WWW-Authenticate',
      (challenges.length === 1 ? challenges[0] : challenges) as string,
    );
    adapter.setHeader(response, 'Cache-Control', 'no-store');
    adapter.reply(response, exception.getResponse(), exception.getStatus());
  }
}
