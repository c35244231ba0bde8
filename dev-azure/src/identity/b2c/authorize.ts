// /{tenant}/{flow}/oauth2/v2.0/authorize: the shared authorize request with
// B2C's error codes; the flow engine decides the first page.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TenantConfig, UserFlowConfig } from '../../config/schema';
import type { IdentityContext } from '../context';
import { OAuthError } from '../errors';
import { resolveUserScopes } from '../tokens/user-token';
import { startAuthorize, type AuthorizeDialect } from '../signin/authorize-request';
import { ssoCookieName } from '../signin/sessions';
import { completeFlow } from './complete';
import { nextStep } from './flow-engine';
import { uiUrl } from './urls';

const b2c = (
  error: 'invalid_request' | 'unsupported_response_type' | 'login_required',
  code: string,
  detail: string,
) => new OAuthError(400, error, code, detail);

export function handleAuthorize(
  ctx: IdentityContext,
  req: FastifyRequest,
  reply: FastifyReply,
  tenant: TenantConfig,
  flow: UserFlowConfig,
): FastifyReply {
  const dialect: AuthorizeDialect = {
    flowName: flow.name,
    sessionCookie: ssoCookieName(tenant.name),
    errors: {
      unknownClient: (clientId) =>
        clientId
          ? [
              'AADB2C90018',
              `The client id '${clientId}' specified in the request is not registered in tenant '${tenant.name}.onmicrosoft.com'.`,
            ]
          : ['AADB2C90018', 'The client id specified in the request is not registered in tenant.'],
      badRedirect: (uri, clientId) => [
        'AADB2C90006',
        `The redirect URI '${uri}' provided in the request is not registered for the client id '${clientId}'.`,
      ],
      noScope: () =>
        b2c(
          'invalid_request',
          'AADB2C90055',
          "The scope '' provided in request must specify a resource, such as 'https://example.com/calendar.read'.",
        ),
      implicit: () =>
        b2c(
          'unsupported_response_type',
          'AADB2C90057',
          "The provided application is not configured to allow the 'OAuth' Implicit flow.",
        ),
      responseType: (value) =>
        b2c(
          'unsupported_response_type',
          'AADB2C90079',
          `The response type '${value}' is not supported.`,
        ),
      queryResponseMode: () =>
        b2c(
          'invalid_request',
          '',
          "The response_mode 'query' is not supported when the response includes a token; use fragment or form_post.",
        ),
      pkce: (detail) => b2c('invalid_request', 'AADB2C90183', detail),
      loginRequired: () =>
        b2c(
          'login_required',
          'AADB2C90077',
          "User does not have an existing session and request prompt parameter has a value of 'None'.",
        ),
      // As B2C answers an unknown prompt (or prompt=create, which is External ID's).
      badPrompt: () =>
        b2c(
          'invalid_request',
          'AADB2C90043',
          "The prompt included in the request contains invalid values. Expected 'none', 'login', 'consent' or 'select_account'.",
        ),
    },
    promptValues: ['none', 'login', 'consent', 'select_account'],
    checkScopes: (client, scopes) => void resolveUserScopes(ctx.directory, tenant, client, scopes),
    ssoEligible: (prompt) =>
      flow.type !== 'passwordReset' && flow.type !== 'signUp' && prompt !== 'login',
    next: (tx) => nextStep(tx, flow),
    complete: (tx) => completeFlow(ctx, req, reply, tx, tenant, flow),
    pageUrl: (page, tx) => uiUrl(tenant, flow, page, tx),
  };
  return startAuthorize(ctx, req, reply, tenant, dialect);
}
