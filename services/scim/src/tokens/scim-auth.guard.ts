import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { authorizationHeaderOf } from '@idp/auth-common';
import type { FastifyRequest } from 'fastify';
import { scimThrottled } from '../metrics';
import { ScimError } from '../scim/scim-error';
import { invalidBodyDetail } from '../scim/json-body';
import { callOf } from '../scim/request-context';
import { DirectoriesService } from './directories.service';
import { RateLimiter } from './rate-limiter';
import { TokensService } from './tokens.service';

/** SCIM bearer-token auth (RFC 6750): the token names the directory; a directory in the path must match it. */
@Injectable()
export class ScimAuthGuard implements CanActivate {
  constructor(
    private readonly tokens: TokensService,
    private readonly directories: DirectoriesService,
    private readonly limiter: RateLimiter,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    const call = callOf(req);
    const params = (req.params ?? {}) as Record<string, string | undefined>;
    if (params.directoryId) call.directoryId = params.directoryId;
    const header = authorizationHeaderOf(req);
    if (Array.isArray(header)) throw ScimError.repeatedAuthorization();
    const m =
      typeof header === 'string' ? /^Bearer\s+([A-Za-z0-9._~+/-]+=*)\s*$/i.exec(header) : null;
    if (!m) throw ScimError.unauthorized('A bearer token is required');
    const secret = m[1];
    const token = secret === undefined ? undefined : await this.tokens.authenticate(secret);
    if (!token)
      throw ScimError.unauthorized('The token is invalid, expired or revoked', 'invalid_token');
    if (params.directoryId && params.directoryId !== token.directoryId) {
      throw ScimError.unauthorized('The token is not valid for this directory', 'invalid_token');
    }
    call.directoryId = token.directoryId;
    call.tokenId = token.tokenId;
    const settings = await this.directories.settingsOf(token.directoryId);
    call.profile = settings.profile;
    call.uniqueGroupDisplayName = settings.uniqueGroupDisplayName;
    call.extensions = settings.extensions;
    call.userSchema = settings.userSchema;
    call.groupSchema = settings.groupSchema;
    // After authentication (401 first, and only a directory's own token spends its budget) and
    // before the body is looked at or anything is read or written.
    const wait = this.limiter.take(token.directoryId);
    if (wait !== undefined) {
      scimThrottled.inc({ directory: token.directoryId });
      throw ScimError.throttled(wait);
    }
    const bad = invalidBodyDetail(req.body);
    if (bad) throw ScimError.invalidSyntax(bad);
    return true;
  }
}
