import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireScopes, type Principal } from '@idp/auth-common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Scopes } from '../auth/auth-options';
import { callerOf } from '../auth/user';
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
