// OpenID configuration of a B2C user flow, shaped like b2clogin.com's.
import type { TenantConfig, UserFlowConfig } from '../../config/schema';
import { b2cFlowBase, issuerFor } from '../issuers';

export function b2cFlowMetadata(
  baseUrl: string,
  tenant: TenantConfig,
  flow: UserFlowConfig,
): Record<string, unknown> {
  const flowBase = b2cFlowBase(baseUrl, tenant, flow.name);
  return {
    issuer: issuerFor(baseUrl, tenant),
    authorization_endpoint: `${flowBase}/oauth2/v2.0/authorize`,
    token_endpoint: `${flowBase}/oauth2/v2.0/token`,
    end_session_endpoint: `${flowBase}/oauth2/v2.0/logout`,
    jwks_uri: `${flowBase}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    response_types_supported: [
      'code',
      'code id_token',
      'code token',
      'code id_token token',
      'id_token',
      'id_token token',
      'token',
      'token id_token',
    ],
    scopes_supported: ['openid'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    token_endpoint_auth_methods_supported: [
      'client_secret_post',
      'client_secret_basic',
      'private_key_jwt',
    ],
    code_challenge_methods_supported: ['plain', 'S256'],
    claims_supported: [
      'name',
      'given_name',
      'family_name',
      'emails',
      'idp',
      'oid',
      'sub',
      'tid',
      flow.acrClaim ? 'acr' : 'tfp',
      'iss',
      'iat',
      'exp',
      'aud',
      'nbf',
      'auth_time',
      'nonce',
      'at_hash',
      'c_hash',
    ],
  };
}
