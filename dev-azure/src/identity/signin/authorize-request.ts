// The authorize request as every interactive tenant reads it: client and
// redirect URI first (errors before they are trusted stay on this server),
// then response type, scopes, PKCE and nonce; a transaction bound to this
// browser; single sign-on from the session cookie. What differs between B2C
// user flows and external tenants (error codes, extra parameters, the next
// page) comes from the dialect.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TenantConfig } from '../../config/schema';
import { nowSeconds, randomToken } from '../../util/encoding';
import type { IdentityContext } from '../context';
import type { ResolvedApp } from '../directory';
import { OAuthError } from '../errors';
import { FormParams } from '../form-params';
import { BROWSER_COOKIE, readCookie, setCookie } from './cookies';
import { errorPage } from './html';
import { redirectUriAllowed } from './redirect-uri';
import { deliverError } from './respond';
import type { AuthorizeTransaction, ResponseMode } from './transactions';

const PKCE_CHALLENGE = /^[A-Za-z0-9._~-]{43,128}$/;
const MAX_PARAM = 2048;

/** A shown error: [code, message]. */
export type PageError = [string, string];

export interface AuthorizeDialect {
  /** Recorded on the transaction ('' for external tenants, whose user flow is attached to the app). */
  flowName: string;
  sessionCookie: string;
  errors: {
    unknownClient(clientId: string | undefined): PageError;
    badRedirect(redirectUri: string, clientId: string): PageError;
    noScope(): OAuthError;
    implicit(): OAuthError;
    responseType(value: string): OAuthError;
    /** response_mode=query asked for with a token in the response. */
    queryResponseMode(): OAuthError;
    pkce(detail: string): OAuthError;
    loginRequired(): OAuthError;
    /** prompt=none with a signed-in user who still has a step to do (e.g. a second factor); default loginRequired. */
    interactionRequired?(step: string): OAuthError;
    /** A prompt value this service does not support (one unknown value, or several values). */
    badPrompt(): OAuthError;
  };
  /** The prompt values this service accepts, one at a time (Entra refuses a space-separated list). */
  promptValues: readonly string[];
  /** Throws when the scopes cannot be granted to this client. */
  checkScopes(client: ResolvedApp, scopes: string[]): void;
  /** Reads dialect-only parameters (e.g. the claims request) onto the new transaction. */
  readExtra?(p: FormParams): Partial<AuthorizeTransaction>;
  /** Whether an existing session may answer without a page. */
  ssoEligible(prompt: string | undefined): boolean;
  /** The page the transaction needs next, or 'complete'. */
  next(tx: AuthorizeTransaction): string;
  complete(tx: AuthorizeTransaction): FastifyReply;
  pageUrl(page: string, tx: AuthorizeTransaction): string;
}

export function startAuthorize(
  ctx: IdentityContext,
  req: FastifyRequest,
  reply: FastifyReply,
  tenant: TenantConfig,
  d: AuthorizeDialect,
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
  const client = clientId ? ctx.directory.app(clientId) : undefined;
  if (!clientId || !client || client.home !== tenant)
    return errorPage(reply, 400, ...d.errors.unknownClient(clientId));
  const replyUrls = [...client.config.redirectUris, ...client.config.spaRedirectUris];
  if (!redirectUri || !redirectUriAllowed(replyUrls, redirectUri)) {
    return errorPage(reply, 400, ...d.errors.badRedirect(redirectUri ?? '', clientId));
  }

  let state: string | undefined;
  let responseMode: ResponseMode = 'query';
  try {
    state = p.get('state');
    const rawType = p.get('response_type');
    // A token in the response never travels in a query string: with id_token (or token) the
    // default mode is fragment and query is refused (OAuth 2.0 Multiple Response Types §5;
    // Entra AADSTS70007), so errors about such a request go back by fragment too.
    const tokenInResponse = (rawType ?? '')
      .split(/\s+/)
      .some((part) => part === 'id_token' || part === 'token');
    const requestedMode = p.get('response_mode');
    responseMode = parseResponseMode(requestedMode, tokenInResponse ? 'fragment' : 'query');
    if (tokenInResponse && responseMode === 'query') {
      responseMode = 'fragment';
      throw d.errors.queryResponseMode();
    }
    const responseType = normalizeResponseType(rawType, d);
    const scopes = (p.get('scope') ?? '').split(/\s+/).filter(Boolean);
    if (scopes.length === 0) throw d.errors.noScope();
    d.checkScopes(client, scopes);
    const nonce = p.get('nonce');
    if (responseType === 'code id_token' && !nonce)
      throw new OAuthError(
        400,
        'invalid_request',
        '',
        "The 'nonce' parameter is required when response_type includes id_token.",
      );
    const { codeChallenge, codeChallengeMethod } = parsePkce(p, client.confidential, d);
    const prompt = p.get('prompt');
    if (prompt !== undefined && !d.promptValues.includes(prompt)) throw d.errors.badPrompt();
    const maxAge = parseMaxAge(p.get('max_age'));
    for (const v of [state, nonce, p.get('login_hint')]) {
      if (v && v.length > MAX_PARAM)
        throw new OAuthError(
          400,
          'invalid_request',
          'AADSTS90015',
          'Requested query string is too long.',
        );
    }
    const extra = d.readExtra?.(p) ?? {};

    let browser = readCookie(req, BROWSER_COOKIE);
    if (!browser || !/^[A-Za-z0-9_-]{20,64}$/.test(browser)) {
      browser = randomToken(24);
      setCookie(reply, BROWSER_COOKIE, browser);
    }
    const tx = ctx.transactions.create({
      ...extra,
      browser,
      tenantId: tenant.id,
      flowName: d.flowName,
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
      maxAge,
    });

    // Single sign-on: an existing session skips the credential step unless prompt=login, or
    // max_age says its authentication is too old (then the user signs in again, OIDC Core 3.1.2.1).
    const session = ctx.sessions.find(readCookie(req, d.sessionCookie), tenant.id);
    const fresh = session && (maxAge === undefined || nowSeconds() - session.authTime <= maxAge);
    if (session && fresh && d.ssoEligible(prompt) && ctx.users.byOid(tenant.id, session.oid)) {
      tx.oid = session.oid;
      tx.authTime = session.authTime;
      tx.mfaDone = session.mfaAt !== undefined;
      tx.sessionMfaAt = session.mfaAt;
    }
    const step = d.next(tx);
    if (step === 'complete') return d.complete(tx);
    if (prompt === 'none') {
      ctx.transactions.end(tx);
      // Someone is signed in but must act (e.g. MFA): interaction_required, not "no user".
      throw tx.oid && d.errors.interactionRequired
        ? d.errors.interactionRequired(step)
        : d.errors.loginRequired();
    }
    return reply.redirect(d.pageUrl(step, tx), 302);
  } catch (err) {
    if (err instanceof OAuthError)
      return deliverError(reply, { redirectUri, responseMode, state }, err.error, err.message);
    throw err;
  }
}

/** max_age: seconds since the last active authentication, a non-negative integer. */
function parseMaxAge(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,10}$/.test(value))
    throw new OAuthError(
      400,
      'invalid_request',
      '',
      `The max_age parameter must be a non-negative integer (seconds), got '${value.slice(0, 32)}'.`,
    );
  return Number(value);
}

function normalizeResponseType(
  value: string | undefined,
  d: AuthorizeDialect,
): 'code' | 'code id_token' {
  const parts = (value ?? '').split(/\s+/).filter(Boolean).sort();
  const joined = parts.join(' ');
  if (joined === 'code') return 'code';
  if (joined === 'code id_token') return 'code id_token';
  if (parts.includes('token') || joined === 'id_token') throw d.errors.implicit();
  if (!value)
    throw new OAuthError(
      400,
      'invalid_request',
      'AADSTS900144',
      "The request body must contain the following parameter: 'response_type'.",
    );
  throw d.errors.responseType(value.slice(0, 64));
}

function parseResponseMode(value: string | undefined, byDefault: ResponseMode): ResponseMode {
  if (value === undefined) return byDefault;
  if (value === 'query' || value === 'fragment' || value === 'form_post') return value;
  throw new OAuthError(
    400,
    'invalid_request',
    '',
    `The response_mode '${value.slice(0, 64)}' is not supported.`,
  );
}

function parsePkce(
  p: FormParams,
  confidential: boolean,
  d: AuthorizeDialect,
): { codeChallenge?: string; codeChallengeMethod?: 'S256' | 'plain' } {
  const codeChallenge = p.get('code_challenge');
  const method = p.get('code_challenge_method');
  if (!codeChallenge) {
    if (!confidential)
      throw d.errors.pkce(
        'The code_challenge parameter is required for public clients (PKCE with S256).',
      );
    return {};
  }
  if (!PKCE_CHALLENGE.test(codeChallenge))
    throw d.errors.pkce('The supplied code_challenge is invalid.');
  const codeChallengeMethod = method ?? 'plain';
  if (codeChallengeMethod !== 'S256' && codeChallengeMethod !== 'plain') {
    throw d.errors.pkce(
      `The code_challenge_method '${codeChallengeMethod.slice(0, 32)}' is not supported.`,
    );
  }
  if (!confidential && codeChallengeMethod !== 'S256')
    throw d.errors.pkce('Public clients must use code_challenge_method S256.');
  return { codeChallenge, codeChallengeMethod };
}
