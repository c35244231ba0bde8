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

/**
 * Entra's rule for single-page apps: a code issued to an SPA reply URL is redeemed only by the
 * browser (cross-origin, with an Origin header), and no other code is redeemed cross-origin.
 * Checked before the code is taken, on the request's redirect_uri (which must match the code's).
 */
/** Whether a token request is a browser (cross-origin) redemption of a code for an SPA reply URL. */
export function isBrowserRedemption(
  client: ResolvedApp,
  p: FormParams,
  origin: string | undefined,
): boolean {
  const redirectUri = p.get('redirect_uri');
  return (
    origin !== undefined &&
    p.get('grant_type') === 'authorization_code' &&
    redirectUri !== undefined &&
    redirectUriAllowed(client.config.spaRedirectUris, redirectUri)
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
  if (origin !== undefined && !spa)
    throw new OAuthError(
      400,
      'invalid_request',
      'AADSTS9002326',
      `Cross-origin token redemption is permitted only for the 'Single-Page Application' client-type. Request origin: '${origin.slice(0, 200)}'.`,
    );
  if (origin === undefined && spa)
    throw new OAuthError(
      400,
      'invalid_request',
      'AADSTS9002327',
      "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests.",
    );
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

export function issueRefreshToken(
  ctx: IdentityContext,
  rec: Omit<RefreshTokenRecord, 'issuedAt' | 'expiresAt'>,
  lifetimeDays: number,
): string {
  const token = randomToken(64);
  const now = nowSeconds();
  ctx.store.state.refreshTokens[sha256Hex(token)] = {
    ...rec,
    issuedAt: now,
    expiresAt: now + lifetimeDays * 86400,
  };
  ctx.store.save();
  return token;
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
  if (rec.expiresAt < nowSeconds()) {
    throw new OAuthError(
      400,
      'invalid_grant',
      'AADSTS700082',
      `The refresh token has expired due to inactivity. The token was issued on ${new Date(rec.issuedAt * 1000).toISOString()} and was inactive for a longer time than allowed.`,
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
