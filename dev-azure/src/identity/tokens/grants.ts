// Redeeming what the sign-in pages hand out: authorization codes (single use,
// bound to client, redirect URI and PKCE challenge) and refresh tokens
// (persisted by hash). Shared by B2C user flows and external tenants; the
// caller checks the endpoint binding (flow) through `checkEndpoint`.
import { createHash } from 'node:crypto';
import type { RefreshTokenRecord } from '../../store/state-store';
import { nowSeconds, randomToken, safeEqual, sha256Hex } from '../../util/encoding';
import type { IdentityContext } from '../context';
import type { ResolvedApp } from '../directory';
import { OAuthError } from '../errors';
import type { FormParams } from '../form-params';
import type { AuthorizationCode } from '../signin/codes';
import { redirectUriAllowed } from '../signin/redirect-uri';

const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/** SPA refresh tokens: a fixed lifetime from the sign-in, not extended by redeeming them (AADSTS700084). */
export const SPA_REFRESH_TOKEN_SECONDS = 24 * 3600;

/** The stored refresh token a request presents, if any (not yet checked for client or expiry). */
function presentedRefreshToken(
  ctx: IdentityContext,
  p: FormParams,
): RefreshTokenRecord | undefined {
  const token = p.get('refresh_token');
  return token === undefined ? undefined : ctx.store.state.refreshTokens[sha256Hex(token)];
}

/**
 * Entra's rule for single-page apps: a code issued to an SPA reply URL, and every refresh token
 * that redemption gives, is redeemed only by the browser (cross-origin, with an Origin header),
 * and no other grant is redeemed cross-origin. This tells whether a token request is such a
 * browser redemption; Entra treats it as a public client's, so a confidential app's SPA needs no
 * secret there.
 */
export function isBrowserRedemption(
  ctx: IdentityContext,
  client: ResolvedApp,
  p: FormParams,
  origin: string | undefined,
): boolean {
  if (origin === undefined) return false;
  const grant = p.get('grant_type');
  if (grant === 'refresh_token') {
    const rec = presentedRefreshToken(ctx, p);
    return rec?.spa === true && rec.clientId.toLowerCase() === client.config.clientId.toLowerCase();
  }
  const redirectUri = p.get('redirect_uri');
  return (
    grant === 'authorization_code' &&
    redirectUri !== undefined &&
    redirectUriAllowed(client.config.spaRedirectUris, redirectUri)
  );
}

/** The refusal of a cross-origin redemption of a grant that is not an SPA's. */
export const CROSS_ORIGIN_REFUSED = 'AADSTS9002326';

function crossOriginRefused(origin: string): OAuthError {
  return new OAuthError(
    400,
    'invalid_request',
    CROSS_ORIGIN_REFUSED,
    `Cross-origin token redemption is permitted only for the 'Single-Page Application' client-type. Request origin: '${origin.slice(0, 200)}'.`,
  );
}

function sameOriginRefused(): OAuthError {
  return new OAuthError(
    400,
    'invalid_request',
    'AADSTS9002327',
    "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests.",
  );
}

export function checkRedemptionOrigin(
  client: ResolvedApp,
  p: FormParams,
  origin: string | undefined,
): void {
  const redirectUri = p.get('redirect_uri');
  if (redirectUri === undefined) return; // takeAuthorizationCode names the missing parameter
  const spa = redirectUriAllowed(client.config.spaRedirectUris, redirectUri);
  // A browser redemption is a public client's (authenticateClient refused any credential on it):
  // Entra wants PKCE there.
  if (origin !== undefined && spa && p.get('code_verifier') === undefined) throw pkceRequired();
  if (origin !== undefined && !spa) throw crossOriginRefused(origin);
  if (origin === undefined && spa) throw sameOriginRefused();
}

/** The refresh token's side of the same rule, once the token is known to be the client's. */
export function checkRefreshOrigin(rec: RefreshTokenRecord, origin: string | undefined): void {
  if (origin !== undefined && rec.spa !== true) throw crossOriginRefused(origin);
  if (origin === undefined && rec.spa === true) throw sameOriginRefused();
}

/** Whether a redeemed code was issued to one of the app's SPA reply URLs (its refresh tokens are the SPA's). */
export function issuedToSpa(client: ResolvedApp, g: AuthorizationCode): boolean {
  return redirectUriAllowed(client.config.spaRedirectUris, g.redirectUri);
}

function pkceRequired(): OAuthError {
  return new OAuthError(
    400,
    'invalid_request',
    'AADSTS9002325',
    'Proof Key for Code Exchange is required for cross-origin authorization code redemption.',
  );
}

export function takeAuthorizationCode(
  ctx: IdentityContext,
  p: FormParams,
  client: ResolvedApp,
  o: { checkEndpoint(g: AuthorizationCode): void; pkceError(): OAuthError },
): AuthorizationCode {
  const code = p.require('code');
  const redirectUri = p.require('redirect_uri');
  const found = ctx.codes.take(code);
  if (!found)
    throw new OAuthError(
      400,
      'invalid_grant',
      'AADSTS70000',
      "The provided value for the 'code' parameter is not valid.",
    );
  if ('redeemed' in found) {
    throw new OAuthError(
      400,
      'invalid_grant',
      'AADSTS54005',
      'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
    );
  }
  const g = found.grant;
  if (g.expiresAt < nowSeconds()) {
    throw new OAuthError(
      400,
      'invalid_grant',
      'AADSTS70008',
      'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
    );
  }
  o.checkEndpoint(g);
  if (g.clientId.toLowerCase() !== client.config.clientId.toLowerCase()) {
    throw new OAuthError(
      400,
      'invalid_grant',
      'AADSTS70000',
      "The provided value for the 'code' parameter is not valid. The code was issued to another client.",
    );
  }
  if (g.redirectUri !== redirectUri) {
    throw new OAuthError(
      400,
      'invalid_request',
      'AADSTS50011',
      `The redirect URI '${redirectUri}' specified in the request does not match the redirect URI used in the authorization request for the application '${client.config.clientId}'.`,
    );
  }
  // A code for an SPA reply URL is redeemed by the browser without a client credential, so PKCE
  // is all that binds it: one issued without a code_challenge is never redeemed.
  if (!g.codeChallenge && redirectUriAllowed(client.config.spaRedirectUris, g.redirectUri))
    throw pkceRequired();
  if (g.codeChallenge) {
    const verifier = p.require('code_verifier');
    const expected =
      g.codeChallengeMethod === 'S256'
        ? createHash('sha256').update(verifier).digest('base64url')
        : verifier;
    if (!VERIFIER.test(verifier) || !safeEqual(expected, g.codeChallenge)) throw o.pkceError();
  }
  return g;
}

/**
 * Stores a new refresh token. `lifetimeDays` is the sliding lifetime of an ordinary one; an SPA's
 * (`spa`) lives SPA_REFRESH_TOKEN_SECONDS from the sign-in, and one redeemed for it (`chain`, the
 * record redeemed) keeps that expiry and issue date.
 */
export function issueRefreshToken(
  ctx: IdentityContext,
  rec: Omit<RefreshTokenRecord, 'issuedAt' | 'expiresAt'>,
  lifetimeDays: number,
  chain?: Pick<RefreshTokenRecord, 'issuedAt' | 'expiresAt'>,
): { token: string; expiresIn: number } {
  const token = randomToken(64);
  const now = nowSeconds();
  const times =
    rec.spa !== true
      ? { issuedAt: now, expiresAt: now + lifetimeDays * 86400 }
      : (chain ?? { issuedAt: now, expiresAt: now + SPA_REFRESH_TOKEN_SECONDS });
  ctx.store.state.refreshTokens[sha256Hex(token)] = {
    ...rec,
    issuedAt: times.issuedAt,
    expiresAt: times.expiresAt,
  };
  ctx.store.save();
  return { token, expiresIn: times.expiresAt - now };
}

export function findRefreshToken(
  ctx: IdentityContext,
  p: FormParams,
  client: ResolvedApp,
  o: { checkEndpoint(rec: RefreshTokenRecord): void },
): RefreshTokenRecord {
  const token = p.require('refresh_token');
  const rec = ctx.store.state.refreshTokens[sha256Hex(token)];
  if (!rec)
    throw new OAuthError(
      400,
      'invalid_grant',
      'AADSTS70000',
      "The provided value for the 'refresh_token' parameter is not valid.",
    );
  // An expired refresh token is a bad_token (suberror), as Entra answers it: MSAL then drops the
  // token from its cache instead of retrying it (msal-js#7033, #6757; msal-dotnet#1505).
  const badToken = { suberror: 'bad_token' };
  if (rec.expiresAt < nowSeconds() && rec.spa === true) {
    throw new OAuthError(
      400,
      'invalid_grant',
      'AADSTS700084',
      `The refresh token was issued to a single page app (SPA), and therefore has a fixed, limited lifetime of 1.00:00:00, which cannot be extended. It is now expired and a new sign in request must be sent by the SPA to the sign in page. The token was issued on ${new Date(rec.issuedAt * 1000).toISOString()}.`,
      badToken,
    );
  }
  if (rec.expiresAt < nowSeconds()) {
    throw new OAuthError(
      400,
      'invalid_grant',
      'AADSTS700082',
      `The refresh token has expired due to inactivity. The token was issued on ${new Date(rec.issuedAt * 1000).toISOString()} and was inactive for a longer time than allowed.`,
      badToken,
    );
  }
  o.checkEndpoint(rec);
  if (rec.clientId.toLowerCase() !== client.config.clientId.toLowerCase()) {
    throw new OAuthError(
      400,
      'invalid_grant',
      'AADSTS70000',
      "The provided value for the 'refresh_token' parameter is not valid. It was issued to another client.",
    );
  }
  return rec;
}
