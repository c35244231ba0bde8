// App-only access tokens (client credentials), with Entra v2.0 claims.
import type { TenantConfig } from '../../config/schema';
import { KEY_VAULT_RESOURCE } from '../../config/references';
import { nowSeconds, randomToken } from '../../util/encoding';
import type { ClientAuthMethod } from '../client-auth/authenticate';
import type { Directory, Principal, Resource } from '../directory';
import { errors } from '../errors';
import { issuerFor } from '../issuers';
import type { KeyRing } from '../keys/key-ring';

export const APP_TOKEN_LIFETIME_SECONDS = 3599;

export interface AppTokenResponse {
  token_type: 'Bearer';
  expires_in: number;
  ext_expires_in: number;
  access_token: string;
}

/** Parses a client-credentials scope: exactly one "<resource>/.default". */
export function resolveDefaultScope(
  directory: Directory,
  tenant: TenantConfig,
  scope: string,
): Resource {
  const parts = scope.split(/\s+/).filter(Boolean);
  const notDefault = parts.find((s) => !s.endsWith('/.default'));
  if (parts.length === 0 || notDefault !== undefined)
    throw errors.scopeNotDefault(notDefault ?? scope);
  if (new Set(parts.map((d) => d.toLowerCase())).size > 1) throw errors.multipleResources();
  const identifier = (parts[0] ?? '').slice(0, -'/.default'.length);
  const resource = directory.resource(tenant, identifier);
  if (!resource) throw errors.resourceNotFound(identifier, tenant.id);
  return resource;
}

export function mintAppToken(
  o: {
    baseUrl: string;
    tenant: TenantConfig;
    principal: Principal;
    resource: Resource;
    method: ClientAuthMethod;
  },
  deps: { directory: Directory; keys: KeyRing },
): AppTokenResponse {
  const now = nowSeconds();
  const { principal, resource, tenant } = o;
  const roles = resource.kind === 'app' ? deps.directory.grantedRoles(principal, resource.app) : [];
  // azpacr: 0 public, 1 secret, 2 certificate or federated assertion.
  const acr = o.method === 'client_secret' ? '1' : o.method === 'none' ? '0' : '2';
  const claims = {
    aud: resource.kind === 'vault' ? KEY_VAULT_RESOURCE : resource.app.clientId,
    iss: issuerFor(o.baseUrl, tenant),
    iat: now,
    nbf: now,
    exp: now + APP_TOKEN_LIFETIME_SECONDS,
    app_displayname: principal.app.config.displayName,
    appid: principal.app.config.clientId,
    appidacr: acr,
    azp: principal.app.config.clientId,
    azpacr: acr,
    idp: issuerFor(o.baseUrl, tenant),
    idtyp: 'app',
    oid: principal.objectId,
    ...(roles.length > 0 ? { roles } : {}),
    sub: principal.objectId,
    tid: tenant.id,
    uti: randomToken(16),
    ver: '2.0',
  };
  return {
    token_type: 'Bearer',
    expires_in: APP_TOKEN_LIFETIME_SECONDS,
    ext_expires_in: APP_TOKEN_LIFETIME_SECONDS,
    access_token: deps.keys.sign(tenant.id, claims),
  };
}
