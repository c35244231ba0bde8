// Scopes in an external tenant, worded as Entra words its errors; a scope
// without a resource ("User.Read") is Microsoft Graph's.
import { GRAPH_RESOURCE } from '../../config/graph';
import type { TenantConfig } from '../../config/schema';
import type { IdentityContext } from '../context';
import type { ResolvedApp } from '../directory';
import { errors, OAuthError } from '../errors';
import { resolveUserScopes, type ScopeDialect, type UserScopes } from '../tokens/user-token';

export const ENTRA_SCOPES: ScopeDialect = {
  unsupported: (raw) =>
    new OAuthError(
      400,
      'invalid_scope',
      'AADSTS70011',
      `The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope '${raw.slice(0, 200)}' is not valid.`,
    ),
  multipleResources: () => errors.multipleResources(),
  notGranted: (client) =>
    new OAuthError(
      400,
      'invalid_grant',
      'AADSTS65001',
      `The user or administrator has not consented to use the application with ID '${client.config.clientId}' named '${client.config.displayName}'. Send an interactive authorization request for this user and resource.`,
    ),
  bareScopeResource: GRAPH_RESOURCE,
};

export function resolveExternalScopes(
  ctx: IdentityContext,
  tenant: TenantConfig,
  client: ResolvedApp,
  requested: string[],
): UserScopes {
  return resolveUserScopes(ctx.directory, tenant, client, requested, ENTRA_SCOPES);
}
