// OpenID configuration of an Entra ID tenant (v2.0 endpoints). B2C tenants
// get the same shape at tenant level, for app-only (client credentials) use.
import type { TenantConfig } from '../../config/schema';
import { issuerFor } from '../issuers';

export function entraMetadata(baseUrl: string, tenant: TenantConfig): Record<string, unknown> {
  const t = `${baseUrl}/${tenant.id}`;
  return {
    token_endpoint: `${t}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: [
      'client_secret_post',
      'private_key_jwt',
      'client_secret_basic',
    ],
    jwks_uri: `${t}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: issuerFor(baseUrl, tenant),
    request_uri_parameter_supported: false,
    authorization_endpoint: `${t}/oauth2/v2.0/authorize`,
    end_session_endpoint: `${t}/oauth2/v2.0/logout`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    claims_supported: [
      'sub',
      'iss',
      'aud',
      'exp',
      'iat',
      'auth_time',
      'acr',
      'nonce',
      'tid',
      'ver',
      'oid',
      'roles',
      'scp',
      'azp',
      'appid',
      'idtyp',
      ...(tenant.type === 'external'
        ? [
            'acrs',
            'xms_cc',
            'preferred_username',
            'name',
            'email',
            'given_name',
            'family_name',
            tenant.legacyIdClaim,
          ]
        : []),
    ],
    tenant_region_scope: 'EU',
    cloud_instance_name: 'localhost',
    cloud_graph_host_name: 'localhost',
    msgraph_host: 'localhost',
  };
}
