// The sign-up/sign-in experience of an external tenant (the user flow is
// attached to the app, so no flow in the URL): the authorize request with
// Entra's error codes and the claims request, the next page (sign-in, then a
// second factor when Conditional Access asks for one) and the end: a code
// carrying the satisfied authentication contexts and client capabilities.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TenantConfig } from '../../config/schema';
import { nowSeconds } from '../../util/encoding';
import type { IdentityContext } from '../context';
import { errors, OAuthError } from '../errors';
import { startAuthorize, type AuthorizeDialect } from '../signin/authorize-request';
import { deliver, deliverError } from '../signin/respond';
import { sessionCookieFor } from '../signin/sessions';
import type { AuthorizeTransaction } from '../signin/transactions';
import { mfaRequired, parseClaimsRequest, satisfiedContexts } from './conditional-access';
import { resolveExternalScopes } from './scopes';
import { signExternalIdToken } from './tokens';

export type ExternalPage = 'signin' | 'signup' | 'reset' | 'mfa';

export function externalPageUrl(
  tenant: TenantConfig,
  page: string,
  tx: AuthorizeTransaction,
): string {
  return `/${tenant.id}/ciam/${page}?tx=${encodeURIComponent(tx.id)}`;
}

const entra = (
  error:
    'invalid_request' | 'unsupported_response_type' | 'login_required' | 'interaction_required',
  code: string,
  detail: string,
) => new OAuthError(400, error, code, detail);

export function handleExternalAuthorize(
  ctx: IdentityContext,
  req: FastifyRequest,
  reply: FastifyReply,
  tenant: TenantConfig,
): FastifyReply {
  const dialect: AuthorizeDialect = {
    flowName: '',
    sessionCookie: sessionCookieFor(tenant),
    errors: {
      unknownClient: (clientId) =>
        clientId
          ? ['AADSTS700016', errors.appNotFound(clientId.slice(0, 64), tenant.id).detail]
          : ['AADSTS900144', "The request body must contain the following parameter: 'client_id'."],
      badRedirect: (uri, clientId) => [
        'AADSTS50011',
        `The redirect URI '${uri}' specified in the request does not match the redirect URIs configured for the application '${clientId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal.`,
      ],
      noScope: () =>
        entra(
          'invalid_request',
          'AADSTS900144',
          "The request body must contain the following parameter: 'scope'.",
        ),
      implicit: () =>
        entra(
          'unsupported_response_type',
          'AADSTS700051',
          "response_type 'token' is not enabled for the application.",
        ),
      responseType: (value) =>
        entra(
          'unsupported_response_type',
          'AADSTS70005',
          `The response_type '${value}' is not supported.`,
        ),
      queryResponseMode: () =>
        entra(
          'invalid_request',
          'AADSTS70007',
          "The application requested an unsupported mode 'query' when requesting a token.",
        ),
      pkce: (detail) => entra('invalid_request', 'AADSTS501491', detail),
      loginRequired: () =>
        entra(
          'login_required',
          'AADSTS50058',
          'A silent sign-in request was sent but no user is signed in.',
        ),
      interactionRequired: (step) =>
        step === 'mfa'
          ? entra(
              'interaction_required',
              'AADSTS50076',
              'Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access this resource.',
            )
          : entra(
              'login_required',
              'AADSTS50058',
              'A silent sign-in request was sent but no user is signed in.',
            ),
      // Entra refuses a prompt it does not know, and any list of values ('consent select_account').
      badPrompt: () => entra('invalid_request', 'AADSTS90023', "Unsupported 'prompt' value."),
    },
    promptValues: ['login', 'none', 'consent', 'select_account', 'create'],
    checkScopes: (client, scopes) => void resolveExternalScopes(ctx, tenant, client, scopes),
    readExtra: (p) => {
      const claims = parseClaimsRequest(p.get('claims'));
      return { requestedAcrs: claims.acrs, clientCapabilities: claims.clientCapabilities };
    },
    // select_account interrupts single sign-on with the account choice (here: the sign-in page).
    ssoEligible: (prompt) =>
      prompt !== 'login' && prompt !== 'create' && prompt !== 'select_account',
    next: (tx) => externalNextStep(ctx, tenant, tx),
    complete: (tx) => completeExternal(ctx, req, reply, tx, tenant),
    pageUrl: (page, tx) => externalPageUrl(tenant, page, tx),
  };
  return startAuthorize(ctx, req, reply, tenant, dialect);
}

/** Whether Conditional Access asks this transaction for a second factor. */
export function transactionNeedsMfa(
  ctx: IdentityContext,
  tenant: TenantConfig,
  tx: AuthorizeTransaction,
): boolean {
  const client = ctx.directory.app(tx.clientId);
  if (!client) return false;
  const scopes = resolveExternalScopes(ctx, tenant, client, tx.scopes);
  return mfaRequired(tenant, {
    client,
    resourceClientId: scopes.audience,
    acrs: tx.requestedAcrs ?? [],
  });
}

export function externalNextStep(
  ctx: IdentityContext,
  tenant: TenantConfig,
  tx: AuthorizeTransaction,
): ExternalPage | 'complete' {
  if (!tx.oid) return tx.prompt === 'create' && tenant.selfServiceSignUp ? 'signup' : 'signin';
  if (!tx.mfaDone && transactionNeedsMfa(ctx, tenant, tx)) return 'mfa';
  return 'complete';
}

export function completeExternal(
  ctx: IdentityContext,
  req: FastifyRequest,
  reply: FastifyReply,
  tx: AuthorizeTransaction,
  tenant: TenantConfig,
): FastifyReply {
  ctx.transactions.end(tx);
  const user = tx.oid ? ctx.users.byOid(tenant.id, tx.oid) : undefined;
  const client = ctx.directory.app(tx.clientId);
  if (!user || !client)
    return deliverError(
      reply,
      tx,
      'invalid_grant',
      'AADSTS50034: The user account does not exist in the directory.',
    );
  const authTime = tx.authTime ?? nowSeconds();
  ctx.sessions.settle(req, reply, {
    cookieName: sessionCookieFor(tenant),
    tenantId: tenant.id,
    oid: user.oid,
    authTime,
    interactive: tx.interactive,
    mfaVerifiedAt: tx.mfaVerifiedAt,
  });

  const mfaAt = tx.mfaVerifiedAt ?? tx.sessionMfaAt;
  const acrs = satisfiedContexts(tenant, tx.requestedAcrs ?? [], mfaAt !== undefined);
  const clientCapabilities = tx.clientCapabilities ?? [];
  const code = ctx.codes.issue({
    tenantId: tenant.id,
    flow: '',
    clientId: tx.clientId,
    redirectUri: tx.redirectUri,
    oid: user.oid,
    scopes: tx.scopes,
    nonce: tx.nonce,
    codeChallenge: tx.codeChallenge,
    codeChallengeMethod: tx.codeChallengeMethod,
    authTime,
    authTimeRequested: tx.maxAge !== undefined,
    mfa: mfaAt !== undefined,
    mfaAt,
    acrs,
    clientCapabilities,
  });
  const params: Record<string, string | undefined> = { code, state: tx.state };
  if (tx.responseType === 'code id_token') {
    try {
      const scopes = resolveExternalScopes(ctx, tenant, client, tx.scopes);
      const input = {
        baseUrl: ctx.baseUrl(),
        tenant,
        client,
        user,
        scopes,
        authTime,
        authTimeRequested: tx.maxAge !== undefined,
        nonce: tx.nonce,
        acrs,
        clientCapabilities,
        clientAuth: '0' as const,
      };
      params.id_token = signExternalIdToken(input, ctx.keys, { code });
    } catch (err) {
      if (err instanceof OAuthError) return deliverError(reply, tx, err.error, err.message);
      throw err;
    }
  }
  return deliver(reply, tx.redirectUri, tx.responseMode, params);
}
