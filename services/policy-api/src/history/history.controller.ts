import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { CurrentPrincipal, RequireScopes, type Principal } from '@idp/auth-common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Scopes } from '../auth/auth-options';
import { callerOf } from '../auth/user';
import { ApiErrorView, BearerErrorView } from '../common/api-error';
import { HistoryQuery, HistoryView } from './history.dto';
import { HistoryService } from './history.service';

@ApiTags('history')
@ApiBearerAuth()
@Controller('policies/me/history')
export class HistoryController {
  constructor(private readonly history: HistoryService) {}

  @Get()
  @RequireScopes(Scopes.read)
  @ApiOperation({
    summary:
      'Audit trail of the caller’s policy: who, when, before/after, user flow and auth_time, request id. Scope Accounts.Read.',
  })
  @ApiOkResponse({ type: HistoryView })
  @ApiBadRequestResponse({
    type: ApiErrorView,
    description:
      'validation_failed: limit or beforeVersion out of range or not an integer, or a query parameter the route does not take',
  })
  @ApiUnauthorizedResponse({ type: BearerErrorView, description: 'Missing or invalid token' })
  @ApiForbiddenResponse({
    type: BearerErrorView,
    description: 'insufficient_scope (Accounts.Read missing, or an app-only token)',
  })
  @ApiConflictResponse({
    type: ApiErrorView,
    description:
      'identity_link_conflict: the migration claim names a B2C policy another identity already holds',
  })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() q: HistoryQuery,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<HistoryView> {
    reply.header('Cache-Control', 'no-store');
    return this.history.forCaller(callerOf(principal, req), q.limit ?? 50, q.beforeVersion);
  }
}
