import { Body, Controller, Headers, HttpCode, Put, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiPreconditionFailedResponse,
  ApiResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { CurrentPrincipal, RequireScopes, type Principal } from '@idp/auth-common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Scopes } from '../auth/auth-options';
import { CustomerGuard } from '../auth/customer.guard';
import { StepUpCheck } from '../auth/step-up';
import { asUser, callerOf } from '../auth/user';
import { ApiErrorView, BearerErrorView } from '../common/api-error';
import { etagOf, PolicyView, toView } from '../policies/policy.view';
import { BeneficiariesService } from './beneficiaries.service';
import { ReplaceBeneficiariesDto } from './beneficiary.dto';
import { parseIfMatch } from './if-match';

@ApiTags('beneficiaries')
@ApiBearerAuth()
@Controller('policies/me/beneficiaries')
export class BeneficiariesController {
  constructor(
    private readonly beneficiaries: BeneficiariesService,
    private readonly stepUp: StepUpCheck,
  ) {}

  @Put()
  @HttpCode(200)
  // After the token and scope guards, before the body is read: see the README's order of answers.
  @UseGuards(CustomerGuard)
  @RequireScopes(Scopes.write)
  @ApiOperation({
    summary: 'Replace the beneficiaries of the caller’s policy',
    description:
      'Scope Accounts.Write and a recent step-up: a B2C token from an MFA user flow (tfp/acr), or an External ID token whose acrs holds the ' +
      'configured authentication context, with an auth_time within the configured max age. Otherwise 401 with WWW-Authenticate: ' +
      'Bearer error="insufficient_user_authentication", acr_values, max_age (RFC 9470), preceded for External ID by the claims challenge ' +
      '(error="insufficient_claims", claims=…). A malformed body or If-Match (400) or a missing If-Match (428) is reported before step-up.',
  })
  @ApiHeader({
    name: 'If-Match',
    required: true,
    description:
      'The ETag from GET /policies/me, quoted as sent (e.g. "v3"); a list of quoted tags matches if any does',
  })
  @ApiOkResponse({ type: PolicyView })
  @ApiBadRequestResponse({
    type: ApiErrorView,
    description:
      'validation_failed (details per field, incl. a malformed If-Match) or invalid_request (malformed JSON)',
  })
  @ApiResponse({
    status: 415,
    type: ApiErrorView,
    description: 'unsupported_media_type: the body is not application/json (UTF-8)',
  })
  @ApiUnauthorizedResponse({
    type: BearerErrorView,
    description:
      'Missing/invalid token, or step-up required (RFC 9470 challenge with acr_values and max_age)',
  })
  @ApiForbiddenResponse({
    type: BearerErrorView,
    description:
      'insufficient_scope (Accounts.Write missing, an app-only token, or a workforce user: no customer account)',
  })
  @ApiConflictResponse({
    type: ApiErrorView,
    description:
      'identity_link_conflict: the migration claim names a B2C policy another identity already holds',
  })
  @ApiPreconditionFailedResponse({
    type: ApiErrorView,
    description: 'precondition_failed: the policy changed since it was read',
  })
  @ApiResponse({
    status: 428,
    type: ApiErrorView,
    description: 'precondition_required: If-Match missing',
  })
  async replace(
    @CurrentPrincipal() principal: Principal,
    @Body() body: ReplaceBeneficiariesDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PolicyView> {
    const user = asUser(principal);
    const caller = callerOf(principal, req);
    // Checked before any database work: a missing or malformed If-Match needs none.
    const preconditions = parseIfMatch(ifMatch);
    // After the body (the validation pipe) and If-Match, before anything that reads the policy.
    this.stepUp.require(principal);
    const policy = await this.beneficiaries.replace(
      { caller, userFlow: user.userFlow, authTime: user.authTime, requestId: String(req.id) },
      preconditions,
      body.beneficiaries.map((b) => ({
        name: b.name,
        relationship: b.relationship,
        sharePercent: b.sharePercent,
      })),
    );
    reply.header('ETag', etagOf(policy.version)).header('Cache-Control', 'no-store');
    return toView(policy);
  }
}
