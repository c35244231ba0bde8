import { randomBytes } from 'node:crypto';

/** The portal's own variables for tests (the common ones — database, port — come from the caller; the portal reads no NATS_*). */
export const B2C_PORTAL_CLIENT_ID = 'ee83192a-329f-477d-922a-8241a2c16afb';

export function portalEnv(
  o: { publicBaseUrl?: string; b2cHost?: string; policyApiUrl?: string; key?: string } = {},
): Record<string, string> {
  return {
    PUBLIC_BASE_URL: o.publicBaseUrl ?? 'https://localhost:8443',
    POLICY_API_URL: o.policyApiUrl ?? 'http://127.0.0.1:9',
    POLICY_API_APP_ID_URI: 'https://contoso.onmicrosoft.com/policy-api',
    B2C_AUTHORITY_HOST: o.b2cHost ?? 'https://localhost:9',
    B2C_TENANT_DOMAIN: 'contoso.onmicrosoft.com',
    B2C_CLIENT_ID: B2C_PORTAL_CLIENT_ID,
    B2C_CLIENT_SECRET: 'portal-dev-secret-5f0c9a7e2b',
    SESSION_ENCRYPTION_KEY: o.key ?? randomBytes(32).toString('base64'),
  };
}

export const EXTERNAL_ID = {
  tenantId: '4e1a444d-77f8-471f-a8bf-855567bb2e46',
  clientId: 'c24b384c-bbd7-4ad1-ad44-8d035f870a8d',
  secret: 'portal-ext-dev-secret-8c41d2b7e9',
  apiAppIdUri: 'api://d1285d1d-863d-4811-bb7a-8755efd310af',
  apiClientId: 'd1285d1d-863d-4811-bb7a-8755efd310af',
} as const;

/** The portal's variables for the External ID tenant `contosoext` of dev-azure (at `identityUrl`). */
export function externalIdPortalEnv(
  o: { publicBaseUrl?: string; identityUrl?: string; policyApiUrl?: string; key?: string } = {},
): Record<string, string> {
  const identityUrl = o.identityUrl ?? 'https://localhost:9';
  return {
    CUSTOMER_IDENTITY_PROVIDER: 'external-id',
    PUBLIC_BASE_URL: o.publicBaseUrl ?? 'https://localhost:8443',
    POLICY_API_URL: o.policyApiUrl ?? 'http://127.0.0.1:9',
    POLICY_API_APP_ID_URI: EXTERNAL_ID.apiAppIdUri,
    EXTERNAL_ID_AUTHORITY: `${identityUrl}/${EXTERNAL_ID.tenantId}`,
    EXTERNAL_ID_CLIENT_ID: EXTERNAL_ID.clientId,
    EXTERNAL_ID_CLIENT_SECRET: EXTERNAL_ID.secret,
    GRAPH_BASE_URL: identityUrl,
    SESSION_ENCRYPTION_KEY: o.key ?? randomBytes(32).toString('base64'),
  };
}
