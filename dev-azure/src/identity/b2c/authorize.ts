// /{tenant}/{flow}/oauth2/v2.0/authorize: validates the request as B2C does
// (errors the client cannot be trusted with are shown, the rest go back to
// the redirect URI), starts a transaction and sends the user to its first page.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TenantConfig, UserFlowConfig } from '../../config/schema';
import { randomToken } from '../../util/encoding';
import type { IdentityContext } from '../context';
import { OAuthError } from '../errors';
import { FormParams } from '../form-params';
import { resolveUserScopes } from '../tokens/user-token';
import { completeFlow } from './complete';
import { BROWSER_COOKIE, readCookie, setCookie } from '../signin/cookies';
import { nextStep } from './flow-engine';
import { errorPage } from '../signin/html';
import { redirectUriAllowed } from '../signin/redirect-uri';
import { deliverError } from '../signin/respond';
import { ssoCookieName } from '../signin/sessions';
import type { ResponseMode } from '../signin/transactions';
import { uiUrl } from './urls';

const PKCE_CHALLENGE = /^[A-Za-z0-9._~-]{43,128}$/;
const MAX_PARAM = 2048;

export function handleAuthorize(
  ctx: IdentityContext,
  req: FastifyRequest,
  reply: FastifyReply,
  tenant: TenantConfig,
  flow: UserFlowConfig,
): FastifyReply {
  let p: FormParams;
  let clientId: string | undefined;
  let redirectUri: string | undefined;
  try {
    p = FormParams.from(req.method === 'POST' ? req.body : req.query);
    clientId = p.get('client_id');
    redirectUri = p.get('redirect_uri');
  } catch (err) {
    if (err instanceof OAuthError) return errorPage(reply, 400, err.code, err.detail);
    throw err;
  }
  // Until client and redirect URI are known good, errors stay on this server.
  if (!clientId) return errorPage(reply, 400, 'AADB2C90018', 'The client id specified in the request is not registered in tenant.');
  const client = ctx.directory.app(clientId);
  if (!client || client.home !== tenant) {
    return errorPage(reply, 400, 'AADB2C90018', `The client id '${clientId}' specified in the request is not registered in tenant '${tenant.name}.onmicrosoft.com'.`);
  }
  if (!redirectUri || !redirectUriAllowed(client.config.redirectUris, redirectUri)) {
    return errorPage(
      reply,
      400,
      'AADB2C90006',
      `The redirect URI '${redirectUri ?? ''}' provided in the request is not registered for the client id '${clientId}'.`,
    );
  }

  let state: string | undefined;
  let responseMode: ResponseMode = 'query';
  try {
    state = p.get('state');
    const responseType = normalizeResponseType(p.get('response_type'));
    responseMode = parseResponseMode(p.get('response_mode'));
    const scopes = (p.get('scope') ?? '').split(/\s+/).filter(Boolean);
    if (scopes.length === 0) throw new OAuthError(400, 'invalid_request', 'AADB2C90055', "The scope '' provided in request must specify a resource, such as 'https://example.com/calendar.read'.");
    resolveUserScopes(ctx.directory, tenant, client, scopes);
    const nonce = p.get('nonce');
    if (responseType === 'code id_token' && !nonce) throw new OAuthError(400, 'invalid_request', '', "The 'nonce' parameter is required when response_type includes id_token.");
    const { codeChallenge, codeChallengeMethod } = parsePkce(p, client.confidential);
    const prompt = p.get('prompt');
    for (const v of [state, nonce, p.get('login_hint')]) {
      if (v && v.length > MAX_PARAM) throw new OAuthError(400, 'invalid_request', 'AADSTS90015', 'Requested query string is too long.');
    }

    let browser = readCookie(req, BROWSER_COOKIE);
    if (!browser || !/^[A-Za-z0-9_-]{20,64}$/.test(browser)) {
      browser = randomToken(24);
      setCookie(reply, BROWSER_COOKIE, browser);
    }
    const tx = ctx.transactions.create({
      browser,
      tenantId: tenant.id,
      flowName: flow.name,
      clientId: client.config.clientId,
      redirectUri,
      responseType,
      responseMode,
      scopes,
      state,
      nonce,
      codeChallenge,
      codeChallengeMethod,
      prompt,
      loginHint: p.get('login_hint'),
    });

    // Single sign-on: an existing session skips the credential step unless prompt=login.
    const session = ctx.sessions.find(readCookie(req, ssoCookieName(tenant.name)), tenant.id);
    const ssoEligible = flow.type !== 'passwordReset' && flow.type !== 'signUp' && prompt !== 'login';
    if (session && ssoEligible && ctx.users.byOid(tenant.id, session.oid)) {
      tx.oid = session.oid;
      tx.authTime = session.authTime;
      tx.mfaDone = session.mfaAt !== undefined;
    }
    const step = nextStep(tx, flow);
    if (step === 'complete') return completeFlow(ctx, req, reply, tx, tenant, flow);
    if (prompt === 'none') {
      ctx.transactions.end(tx);
      throw new OAuthError(400, 'login_required', 'AADB2C90077', "User does not have an existing session and request prompt parameter has a value of 'None'.");
    }
    return reply.redirect(uiUrl(tenant, flow, step, tx), 302);
  } catch (err) {
    if (err instanceof OAuthError) return deliverError(reply, { redirectUri, responseMode, state }, err.error, err.message);
    throw err;
  }
}

function normalizeResponseType(value: string | undefined): 'code' | 'code id_token' {
  const parts = (value ?? '').split(/\s+/).filter(Boolean).sort();
  const joined = parts.join(' ');
  if (joined === 'code') return 'code';
  if (joined === 'code id_token') return 'code id_token';
  if (parts.includes('token') || joined === 'id_token') {
    throw new OAuthError(400, 'unsupported_response_type', 'AADB2C90057', "The provided application is not configured to allow the 'OAuth' Implicit flow.");
  }
  if (!value) throw new OAuthError(400, 'invalid_request', 'AADSTS900144', "The request body must contain the following parameter: 'response_type'.");
  throw new OAuthError(400, 'unsupported_response_type', 'AADB2C90079', `The response type '${value.slice(0, 64)}' is not supported.`);
}

function parseResponseMode(value: string | undefined): ResponseMode {
  if (value === undefined || value === 'query') return 'query';
  if (value === 'fragment' || value === 'form_post') return value;
  throw new OAuthError(400, 'invalid_request', '', `The response_mode '${value.slice(0, 64)}' is not supported.`);
}

function parsePkce(p: FormParams, confidential: boolean): { codeChallenge?: string; codeChallengeMethod?: 'S256' | 'plain' } {
  const codeChallenge = p.get('code_challenge');
  const method = p.get('code_challenge_method');
  if (!codeChallenge) {
    if (!confidential) throw new OAuthError(400, 'invalid_request', 'AADB2C90183', 'The code_challenge parameter is required for public clients (PKCE with S256).');
    return {};
  }
  if (!PKCE_CHALLENGE.test(codeChallenge)) throw new OAuthError(400, 'invalid_request', 'AADB2C90183', 'The supplied code_challenge is invalid.');
  const codeChallengeMethod = method ?? 'plain';
  if (codeChallengeMethod !== 'S256' && codeChallengeMethod !== 'plain') {
    throw new OAuthError(400, 'invalid_request', 'AADB2C90183', `The code_challenge_method '${codeChallengeMethod.slice(0, 32)}' is not supported.`);
  }
  if (!confidential && codeChallengeMethod !== 'S256') {
    throw new OAuthError(400, 'invalid_request', 'AADB2C90183', 'Public clients must use code_challenge_method S256.');
  }
  return { codeChallenge, codeChallengeMethod };
}
