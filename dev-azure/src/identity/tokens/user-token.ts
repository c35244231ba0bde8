// B2C user tokens: ID and access tokens with B2C's claims (tfp/acr, emails,
// scp, ver 1.0...) and the token response fields MSAL reads (client_info).
import type { AppConfig, TenantConfig, UserFlowConfig } from '../../config/schema';
import type { UserRecord } from '../../store/state-store';
import { base64url, nowSeconds, sha256 } from '../../util/encoding';
import type { Directory, ResolvedApp } from '../directory';
import { OAuthError } from '../errors';
import { issuerFor } from '../issuers';
import type { KeyRing } from '../keys/key-ring';

export interface UserScopes {
  openid: boolean;
  offlineAccess: boolean;
  /** Audience of the access token, if one is issued. */
  audience?: string;
  /** Granted scope values (the `scp` claim). */
  scp: string[];
  /** Scope strings echoed in the response `scope` field. */
  granted: string[];
}

const b2cError = (error: 'invalid_scope' | 'invalid_request', code: string, detail: string) =>
  new OAuthError(400, error, code, detail);

/** How a tenant type words scope errors, and where a scope without a resource points. */
export interface ScopeDialect {
  unsupported(raw: string): OAuthError;
  multipleResources(requested: string[]): OAuthError;
  notGranted(client: ResolvedApp, resource: AppConfig): OAuthError;
  /** Entra reads "User.Read" as Graph's; B2C refuses scopes without a resource. */
  bareScopeResource?: string;
}

export const B2C_SCOPES: ScopeDialect = {
  unsupported: (raw) =>
    b2cError(
      'invalid_scope',
      'AADB2C90117',
      `The scope '${raw}' provided in the request is not supported.`,
    ),
  multipleResources: (requested) =>
    b2cError(
      'invalid_scope',
      'AADB2C90146',
      `The scope '${requested.join(' ')}' provided in request specifies more than one resource for an access token, which is not supported.`,
    ),
  notGranted: () =>
    b2cError(
      'invalid_request',
      'AADB2C90205',
      'This application does not have sufficient permissions against this web resource to perform the operation.',
    ),
};

/** Which access token (if any) the requested scopes call for, keeping only scopes exposed and granted. */
export function resolveUserScopes(
  directory: Directory,
  tenant: TenantConfig,
  client: ResolvedApp,
  requested: string[],
  dialect: ScopeDialect = B2C_SCOPES,
): UserScopes {
  const result: UserScopes = { openid: false, offlineAccess: false, scp: [], granted: [] };
  const resources = new Map<string, { app: AppConfig; values: { raw: string; value: string }[] }>();
  let self = false;
  for (const raw of requested) {
    const lower = raw.toLowerCase();
    if (lower === 'openid') result.openid = true;
    else if (lower === 'offline_access') result.offlineAccess = true;
    else if (lower === 'profile' || lower === 'email') continue;
    else if (lower === client.config.clientId.toLowerCase()) self = true;
    else {
      const slash = raw.lastIndexOf('/');
      const bare = slash <= 0 && dialect.bareScopeResource !== undefined;
      const resource = bare
        ? directory.resource(tenant, dialect.bareScopeResource ?? '')
        : slash > 0
          ? directory.resource(tenant, raw.slice(0, slash))
          : undefined;
      if (!resource || resource.kind !== 'app') throw dialect.unsupported(raw);
      const entry = resources.get(resource.app.clientId) ?? { app: resource.app, values: [] };
      entry.values.push({ raw, value: bare ? raw : raw.slice(slash + 1) });
      resources.set(resource.app.clientId, entry);
    }
  }
  if (resources.size + (self ? 1 : 0) > 1) throw dialect.multipleResources(requested);
  if (self) {
    result.audience = client.config.clientId;
    result.granted.push(client.config.clientId);
  }
  for (const { app, values } of resources.values()) {
    const exposed = new Set(app.scopes.map((s) => s.value));
    const allowed = new Set(directory.delegatedScopes(client, tenant, app));
    for (const v of values) {
      const names = v.value === '.default' ? [...allowed] : [v.value];
      for (const name of names) {
        if (exposed.has(name) && allowed.has(name) && !result.scp.includes(name)) {
          result.scp.push(name);
          result.granted.push(
            v.value === '.default' ? `${v.raw.slice(0, -'.default'.length)}${name}` : v.raw,
          );
        }
      }
    }
    if (result.scp.length === 0) throw dialect.notGranted(client, app);
    result.audience = app.clientId;
  }
  if (result.openid) result.granted.push('openid');
  if (result.offlineAccess) result.granted.push('offline_access');
  return result;
}

export interface UserTokenInput {
  baseUrl: string;
  tenant: TenantConfig;
  flow: UserFlowConfig;
  client: ResolvedApp;
  user: UserRecord;
  scopes: UserScopes;
  authTime: number;
  nonce?: string;
}

function userClaims(
  i: UserTokenInput,
  now: number,
  lifetimeMinutes: number,
): Record<string, unknown> {
  return {
    iss: issuerFor(i.baseUrl, i.tenant),
    exp: now + lifetimeMinutes * 60,
    nbf: now,
    iat: now,
    ver: '1.0',
    sub: i.user.oid,
    oid: i.user.oid,
    auth_time: i.authTime,
    idp: 'local',
    name: i.user.displayName,
    given_name: i.user.givenName,
    family_name: i.user.surname,
    emails: [i.user.email],
    tid: i.tenant.id,
    ...(i.flow.acrClaim ? { acr: i.flow.name.toLowerCase() } : { tfp: i.flow.name }),
  };
}

/** Left half of the SHA-256 of `value`, base64url: at_hash / c_hash. */
export function halfHash(value: string): string {
  return base64url(sha256(value).subarray(0, 16));
}

export function signAccessToken(
  i: UserTokenInput,
  keys: KeyRing,
): { token: string; expiresIn: number; notBefore: number } | undefined {
  if (!i.scopes.audience) return undefined;
  const now = nowSeconds();
  const claims = {
    ...userClaims(i, now, i.flow.accessTokenLifetimeMinutes),
    aud: i.scopes.audience,
    azp: i.client.config.clientId,
    ...(i.scopes.scp.length > 0 ? { scp: i.scopes.scp.join(' ') } : {}),
    ...(i.nonce ? { nonce: i.nonce } : {}),
  };
  return {
    token: keys.sign(i.tenant.id, claims),
    expiresIn: i.flow.accessTokenLifetimeMinutes * 60,
    notBefore: now,
  };
}

export function signIdToken(
  i: UserTokenInput,
  keys: KeyRing,
  hashes: { accessToken?: string; code?: string },
): string {
  const now = nowSeconds();
  return keys.sign(i.tenant.id, {
    ...userClaims(i, now, i.flow.idTokenLifetimeMinutes),
    aud: i.client.config.clientId,
    azp: i.client.config.clientId,
    ...(i.nonce ? { nonce: i.nonce } : {}),
    ...(hashes.accessToken ? { at_hash: halfHash(hashes.accessToken) } : {}),
    ...(hashes.code ? { c_hash: halfHash(hashes.code) } : {}),
  });
}

export interface B2CTokenResponse {
  token_type: 'Bearer';
  access_token?: string;
  id_token?: string;
  refresh_token?: string;
  scope: string;
  expires_in?: number;
  ext_expires_in?: number;
  expires_on?: number;
  not_before: number;
  resource?: string;
  id_token_expires_in?: number;
  refresh_token_expires_in?: number;
  profile_info: string;
  client_info: string;
}

/** MSAL builds the account from client_info; B2C's uid is "<oid>-<flow>". */
export function clientInfo(i: Pick<UserTokenInput, 'user' | 'flow' | 'tenant'>): string {
  return base64url(
    JSON.stringify({ uid: `${i.user.oid}-${i.flow.name.toLowerCase()}`, utid: i.tenant.id }),
  );
}

export function profileInfo(i: Pick<UserTokenInput, 'user' | 'tenant'>): string {
  return base64url(
    JSON.stringify({
      ver: '1.0',
      tid: i.tenant.id,
      sub: null,
      name: i.user.displayName,
      preferred_username: null,
      idp: null,
    }),
  );
}

export function buildUserTokenResponse(
  i: UserTokenInput,
  keys: KeyRing,
  refresh: { token: string; expiresIn: number } | undefined,
): B2CTokenResponse {
  const access = signAccessToken(i, keys);
  const now = nowSeconds();
  return {
    token_type: 'Bearer',
    ...(access
      ? {
          access_token: access.token,
          expires_in: access.expiresIn,
          ext_expires_in: access.expiresIn,
          expires_on: access.notBefore + access.expiresIn,
          resource: i.scopes.audience,
        }
      : {}),
    ...(i.scopes.openid
      ? {
          id_token: signIdToken(i, keys, { accessToken: access?.token }),
          id_token_expires_in: i.flow.idTokenLifetimeMinutes * 60,
        }
      : {}),
    ...(refresh
      ? { refresh_token: refresh.token, refresh_token_expires_in: refresh.expiresIn }
      : {}),
    scope: i.scopes.granted.join(' '),
    not_before: access?.notBefore ?? now,
    profile_info: profileInfo(i),
    client_info: clientInfo(i),
  };
}
