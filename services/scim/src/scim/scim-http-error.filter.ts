import { Catch, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ScimExceptionFilter } from './scim-exception.filter';
import { isScimUrl } from './scim-routes';

/**
 * The global filter: failures that happen before any SCIM controller runs (Fastify's body limit,
 * content-type and URL errors) are still answered in the SCIM error schema when the URL is under
 * the SCIM base; everything else keeps Nest's default rendering.
 */
@Catch()
export class ScimHttpErrorFilter extends BaseExceptionFilter {
  private readonly scim = new ScimExceptionFilter();

  override catch(exception: unknown, host: ArgumentsHost): void {
    const req = host.getType() === 'http' ? host.switchToHttp().getRequest<FastifyRequest | undefined>() : undefined;
    if (typeof req?.url === 'string' && isScimUrl(req.url)) return this.scim.catch(exception, host);
    super.catch(exception, host);
  }
}
