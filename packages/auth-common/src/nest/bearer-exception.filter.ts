import { Catch, Inject, Optional, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { AUTH_MODULE_OPTIONS } from './auth.constants';
import { BearerAuthException } from './bearer-auth.exception';
import type { AuthModuleOptions } from './auth-module-options';

/** Writes RFC 6750 responses through the HTTP adapter (Fastify or Express). */
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
    adapter.setHeader(
      response,
      'WWW-Authenticate',
      exception.wwwAuthenticate(this.options?.realm ?? 'api'),
    );
    adapter.setHeader(response, 'Cache-Control', 'no-store');
    adapter.reply(response, exception.getResponse(), exception.getStatus());
  }
}
