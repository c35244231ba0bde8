import { All, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ScimController } from './scim-controller.decorators';
import { unmatchedScimRequest } from './scim-routes';

/**
 * Everything under the SCIM base that no other route takes: after authentication, 405 (with
 * `Allow`) for a method a resource does not support, 404 for a path that names nothing; both in
 * the SCIM error schema. Static and parametric routes win over this wildcard in Fastify's router.
 */
@ScimController('')
export class UnmatchedScimController {
  @All(['', '*'])
  unmatched(@Req() req: FastifyRequest): never {
    throw unmatchedScimRequest(req.method, req.url);
  }
}
