import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { CurrentPrincipal, RequireRoles, RequireScopes, type Principal } from '@idp/auth-common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppRoles, Scopes } from '../auth/auth-options';
import { callerOf } from '../auth/user';
import { ApiError, ApiErrorView, BearerErrorView, Errors } from '../common/api-error';
import { PoliciesService } from './policies.service';
import { POLICY_NUMBER } from './policy-number';
import { etagOf, PolicyView, toView } from './policy.view';

@ApiTags('policies')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: BearerErrorView, description: 'Missing or invalid token' })
@ApiForbiddenResponse({
  type: BearerErrorView,
  description: 'insufficient_scope: missing scope or app role',
})
@Controller('policies')
export class PoliciesController {
  constructor(private readonly policies: PoliciesService) {}

  @Get('me')
  @RequireScopes(Scopes.read)
  @ApiOperation({
    summary:
      "The caller's policy (created on first read). Scope Accounts.Read. Returns an ETag for If-Match.",
  })
  @ApiOkResponse({ type: PolicyView })
  @ApiCreatedResponse({
    type: PolicyView,
    description: 'This read created the policy (the first one)',
  })
  @ApiConflictResponse({
    type: ApiErrorView,
    description:
      'identity_link_conflict: the migration claim names a B2C policy another identity already holds',
  })
  async me(
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PolicyView> {
    const caller = callerOf(principal, req);
    // HEAD is safe (RFC 9110 §9.2.1): it never creates the policy (it may link a migrated
    // identity, like every /policies/me route); without a policy it is 404.
    if (req.method === 'HEAD') {
      const held = await this.policies.findFor(caller);
      if (!held) throw Errors.noPolicyYet();
      reply.header('ETag', etagOf(held.version)).header('Cache-Control', 'no-store');
      return toView(held);
    }
    const { policy, created } = await this.policies.findOrCreate(caller);
    // 201 tells the first read apart, so the portal can say it created the policy.
    if (created) reply.code(201);
    reply.header('ETag', etagOf(policy.version)).header('Cache-Control', 'no-store');
    return toView(policy);
  }

  @Get(':number')
  @RequireRoles(AppRoles.readAll)
  @ApiOperation({
    summary:
      'Any policy by number. App-only tokens with the Policies.Read.All app role; delegated tokens never.',
  })
  @ApiParam({
    name: 'number',
    description: 'PN followed by 10 digits; anything else is 400 validation_failed',
    schema: { type: 'string', pattern: POLICY_NUMBER.source, example: 'PN0123456789' },
  })
  @ApiOkResponse({ type: PolicyView })
  @ApiBadRequestResponse({
    type: ApiErrorView,
    description: 'validation_failed: not a policy number',
  })
  @ApiNotFoundResponse({ type: ApiErrorView })
  async byNumber(
    @Param('number') number: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PolicyView> {
    if (!POLICY_NUMBER.test(number)) {
      throw new ApiError(400, 'validation_failed', 'Invalid policy number', [
        { field: 'number', message: 'must be PN followed by 10 digits' },
      ]);
    }
    const policy = await this.policies.findByNumber(number);
    if (!policy) throw Errors.policyNotFound();
    reply.header('ETag', etagOf(policy.version)).header('Cache-Control', 'no-store');
    return toView(policy);
  }
}
