import { randomBytes } from 'node:crypto';

/** The portal's own variables for tests (the common ones — NATS, database, port — come from the caller). */
export function portalEnv(o: { publicBaseUrl?: string; b2cHost?: string; policyApiUrl?: string; key?: string } = {}): Record<string, string> {
  return {
    PUBLIC_BASE_URL: o.publicBaseUrl ?? 'https://localhost:8443',
    POLICY_API_URL: o.policyApiUrl ?? 'http://127.0.0.1:9',
    POLICY_API_APP_ID_URI: 'https://contoso.onmicrosoft.com/policy-api',
    B2C_AUTHORITY_HOST: o.b2cHost ?? 'https://localhost:9',
    B2C_TENANT_DOMAIN: 'contoso.onmicrosoft.com',
    B2C_CLIENT_ID: 'ee83192a-329f-477d-922a-8241a2c16afb',
    B2C_CLIENT_SECRET: 'portal-dev-secret-5f0c9a7e2b',
    SESSION_ENCRYPTION_KEY: o.key ?? randomBytes(32).toString('base64'),
  };
}
