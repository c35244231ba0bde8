// External ID (CIAM) user tokens: Entra v2.0 ID and access tokens. No tfp
// (the user flow is attached to the app); `acrs` for satisfied authentication
// contexts; optional claims (auth_time, names, email, xms_cc) only where the
// app registration asks for them; the migration attribute as a claim.
import type { AppConfig, TenantConfig } from '../../config/schema';
import type { UserRecord } from '../../store/state-store';
import { base64url, nowSeconds, randomToken, sha256 } from '../../util/encoding';
import type { ResolvedApp } from '../directory';
import { issuerFor } from '../issuers';
import type { KeyRing } from '../keys/key-ring';
import { halfHash, type UserScopes } from '../tokens/user-token';

export const ACCESS_TOKEN_SECONDS = 3600;
export const ID_TOKEN_SECONDS = 3600;
export const REFRESH_TOKEN_DAYS = 90;

export interface ExternalTokenInput {
  baseUrl: string;
  tenant: TenantConfig;
  client: ResolvedApp;
  /** The API the access token is for (undefined: ID token only). */
  resource?: AppConfig;
  user: UserRecord;
  scopes: UserScopes;
  authTime: number;
  nonce?: string;
  /** Authentication contexts satisfied for this token. */
  acrs: string[];
  /** Capabilities the client declared (xms_cc), emitted only if the API asks for the optional claim. */
  clientCapabilities: string[];
  /** azpacr: 0 public client, 1 client secret, 2 certificate. */
  clientAuth: '0' | '1' | '2';
  /** The sign-in was asked for with max_age: the ID token carries auth_time whatever the app's optional claims. */
  authTimeRequested?: boolean;
}

/** Entra subjects are pairwise: the same user has another `sub` in each app. */
export function pairwiseSubject(tenantId: string, appId: string, oid: string): string {
  return base64url(sha256(`${tenantId}|${appId.toLowerCase()}|${oid}`)).slice(0, 43);
}

function optional(which: readonly string[], i: ExternalTokenInput): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (which.includes('auth_time')) out.auth_time = i.authTime;
  if (which.includes('email')) out.email = i.user.email;
  // A name cleared through Graph is no claim at all, as Entra leaves out optional claims without a value.
  if (which.includes('given_name') && i.user.givenName !== '') out.given_name = i.user.givenName;
  if (which.includes('family_name') && i.user.surname !== '') out.family_name = i.user.surname;
  if (which.includes('xms_cc') && i.clientCapabilities.length > 0)
    out.xms_cc = i.clientCapabilities;
  return out;
}

function common(i: ExternalTokenInput, now: number, lifetime: number): Record<string, unknown> {
  return {
    iss: issuerFor(i.baseUrl, i.tenant),
    iat: now,
    nbf: now,
    exp: now + lifetime,
    aio: randomToken(24),
    name: i.user.displayName,
    oid: i.user.oid,
    preferred_username: i.user.email,
    tid: i.tenant.id,
    uti: randomToken(16),
    ver: '2.0',
    ...(i.user.legacyB2cObjectId ? { [i.tenant.legacyIdClaim]: i.user.legacyB2cObjectId } : {}),
  };
}

export function signExternalAccessToken(i: ExternalTokenInput, keys: KeyRing): string | undefined {
  if (!i.resource || !i.scopes.audience) return undefined;
  const now = nowSeconds();
  return keys.sign(i.tenant.id, {
    aud: i.scopes.audience,
    ...common(i, now, ACCESS_TOKEN_SECONDS),
    ...(i.acrs.length > 0 ? { acrs: i.acrs } : {}),
    azp: i.client.config.clientId,
    azpacr: i.clientAuth,
    ...(i.scopes.scp.length > 0 ? { scp: i.scopes.scp.join(' ') } : {}),
    sub: pairwiseSubject(i.tenant.id, i.scopes.audience, i.user.oid),
    ...optional(i.resource.optionalClaims.accessToken, i),
  });
}

export function signExternalIdToken(
  i: ExternalTokenInput,
  keys: KeyRing,
  hashes: { accessToken?: string; code?: string },
): string {
  const now = nowSeconds();
  return keys.sign(i.tenant.id, {
    aud: i.client.config.clientId,
    ...common(i, now, ID_TOKEN_SECONDS),
    ...(i.nonce ? { nonce: i.nonce } : {}),
    sub: pairwiseSubject(i.tenant.id, i.client.config.clientId, i.user.oid),
    ...(hashes.accessToken ? { at_hash: halfHash(hashes.accessToken) } : {}),
    ...(hashes.code ? { c_hash: halfHash(hashes.code) } : {}),
    ...optional(i.client.config.optionalClaims.idToken, i),
    ...(i.authTimeRequested ? { auth_time: i.authTime } : {}),
  });
}

export interface EntraTokenResponse {
  token_type: 'Bearer';
  scope: string;
  expires_in: number;
  ext_expires_in: number;
  access_token?: string;
  refresh_token?: string;
  id_token?: string;
  /** MSAL builds the account from it: uid = object id, utid = tenant id. */
  client_info: string;
}

export function buildExternalTokenResponse(
  i: ExternalTokenInput,
  keys: KeyRing,
  refreshToken: string | undefined,
): EntraTokenResponse {
  const access = signExternalAccessToken(i, keys);
  return {
    token_type: 'Bearer',
    scope: i.scopes.granted.join(' '),
    expires_in: access ? ACCESS_TOKEN_SECONDS : ID_TOKEN_SECONDS,
    ext_expires_in: access ? ACCESS_TOKEN_SECONDS : ID_TOKEN_SECONDS,
    ...(access ? { access_token: access } : {}),
    ...(refreshToken ? { refresh_token: refreshToken } : {}),
    ...(i.scopes.openid ? { id_token: signExternalIdToken(i, keys, { accessToken: access }) } : {}),
    client_info: base64url(JSON.stringify({ uid: i.user.oid, utid: i.tenant.id })),
  };
}
