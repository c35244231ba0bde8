import { Catch, NotFoundException, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ScimExceptionFilter } from './scim-exception.filter';
import { isScimUrl, unmatchedScimRequest } from './scim-routes';

/**
 * Global filter (APP_FILTER of the root module) for what fails before any SCIM controller runs:
 * Fastify's body limit and content-type errors, and Nest's "no route" 404 for a path the
 * catch-all controller does not take (e.g. `/Users/`). Under the SCIM base they are answered in
 * the SCIM error schema, elsewhere as Nest would. Being the root module's, Nest consults it after
 * the global filters of imported modules (the admin API's bearer challenges), which keep theirs.
 */
@Catch()
export class ScimHttpErrorFilter extends BaseExceptionFilter {
  private readonly scim = new ScimExceptionFilter();

  override catch(exception: unknown, host: ArgumentsHost): void {
    const req =
      host.getType() === 'http'
        ? host.switchToHttp().getRequest<FastifyRequest | undefined>()
        : undefined;
    if (typeof req?.url !== 'string' || !isScimUrl(req.url)) return super.catch(exception, host);
    this.scim.catch(
      exception instanceof NotFoundException
        ? unmatchedScimRequest(req.method, req.url)
        : exception,
      host,
    );
  }
}
