// The dev-azure identity stand-in as policy-api's specs use it: the contoso B2C tenant's user
// flows and daemon, the environment that trusts them, and real tokens from it (HTTPS via the dev
// CA: NODE_EXTRA_CA_CERTS, set by `npm test`).
import type { DevAzure } from '@idp/dev-azure';

const TENANT = 'contoso';
export const PORTAL = 'ee83192a-329f-477d-922a-8241a2c16afb';
const POLICY_API = '1d5a0a76-3f56-4b6a-a5fa-4dc21dbc0c05';
const DAEMON = {
  clientId: 'aff97b82-4dc1-4009-95e5-cce46939e38a',
  secret: 'policy-daemon-dev-secret-3d81e6c4a0',
};
const SCOPES = [
  'https://contoso.onmicrosoft.com/policy-api/Accounts.Read',
  'https://contoso.onmicrosoft.com/policy-api/Accounts.Write',
];

/** The contoso tenant's id (its workforce side issues the daemon's app-only tokens). */
const tenantIdOf = (azure: DevAzure): string =>
  azure.config.tenants.find((t) => t.name === TENANT)?.id ?? '';

/** policy-api trusting the sign-in and MFA user flows and the daemon's tenant, over HTTPS only. */
export function b2cEnv(azure: DevAzure): Record<string, string> {
  const flowMetadata = (flow: string) =>
    `${azure.identityUrl}/${TENANT}.onmicrosoft.com/${flow}/v2.0/.well-known/openid-configuration`;
  return {
    B2C_IDENTITY_METADATA: [
      flowMetadata('b2c_1_signupsignin'),
      flowMetadata('b2c_1_signupsignin_mfa'),
    ].join(','),
    APP_IDENTITY_METADATA: `${azure.identityUrl}/${tenantIdOf(azure)}/v2.0/.well-known/openid-configuration`,
    API_AUDIENCE: `${POLICY_API},api://policy-api`,
    AUTH_ALLOW_INSECURE_HTTP: 'false',
  };
}

/** A seeded user's access token from a user flow (the portal's client, both scopes). */
export const userToken = (
  azure: DevAzure,
  email: string,
  flow: string,
  authTime?: number,
): Promise<string> =>
  azure.identity.issueUserAccessToken({
    tenant: TENANT,
    flow,
    userEmail: email,
    clientId: PORTAL,
    scopes: SCOPES,
    authTime,
  });

/** The policy-daemon's app-only token from the client-credentials endpoint (or its error answer). */
export async function daemonToken(azure: DevAzure): Promise<{ status: number; token: string }> {
  const r = await fetch(`${azure.identityUrl}/${tenantIdOf(azure)}/oauth2/v2.0/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: DAEMON.clientId,
      client_secret: DAEMON.secret,
      scope: 'api://policy-api/.default',
    }),
  });
  const body = (await r.json()) as { access_token?: string };
  return { status: r.status, token: body.access_token ?? '' };
}
