// A tenant switch within one provider: the portal restarted on another B2C tenant
// (B2C_TENANT_DOMAIN) with the same session table and key. A session signed in at the old tenant
// must not pass for signed in at the new one (its claims, token cache and sign-out are the old
// tenant's): its ID token's issuer is not the new metadata's issuer, so it is signed out.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { seedConfigPath, type DevAzureConfigInput } from '@idp/dev-azure';
import {
  expectPage,
  expectRedirect,
  HttpBrowser,
} from '../../../../dev-azure/test/support/http-browser';
import { startPortalInProcess, type InProcessPortal } from '../support/portal-app';
import { cookieJarClient } from '../support/portal-client';
import { portalEnv } from '../support/portal-env';
import { usePortalStack } from '../support/portal-stack';
import { startRecordingApi } from '../support/recording-api';

const NEW_TENANT = {
  name: 'contosonew',
  id: '0b6f5c1e-7d4a-4b8e-9a51-3c2d1e0f9a77',
  portalClientId: '6a0c2f3e-51b7-4d2c-8e90-1f4b3a5c7d01',
  apiAppIdUri: 'https://contosonew.onmicrosoft.com/policy-api',
};
const ALICE = { email: 'alice@contoso.example', password: 'Alice-dev-Passw0rd!' };

interface SeedTenant {
  type: string;
  apps: { name: string; [k: string]: unknown }[];
  users: { email: string; [k: string]: unknown }[];
  [k: string]: unknown;
}

/** The seed configuration plus a second B2C tenant: the portal and the API (ids of its own), alice. */
function twoB2cTenants(): DevAzureConfigInput {
  const seed = JSON.parse(readFileSync(seedConfigPath, 'utf8')) as {
    tenants: SeedTenant[];
  } & Record<string, unknown>;
  const b2c = seed.tenants.find((t) => t.type === 'b2c')!;
  const app = (name: string) => b2c.apps.find((a) => a.name === name)!;
  const copy: SeedTenant = {
    ...b2c,
    name: NEW_TENANT.name,
    id: NEW_TENANT.id,
    servicePrincipals: [],
    apps: [
      {
        ...app('portal'),
        clientId: NEW_TENANT.portalClientId,
        servicePrincipalId: '6a0c2f3e-51b7-4d2c-8e90-1f4b3a5c7d02',
      },
      {
        ...app('policy-api'),
        clientId: '6a0c2f3e-51b7-4d2c-8e90-1f4b3a5c7d03',
        servicePrincipalId: '6a0c2f3e-51b7-4d2c-8e90-1f4b3a5c7d04',
        identifierUris: [NEW_TENANT.apiAppIdUri],
      },
    ],
    users: b2c.users
      .filter((u) => u.email === ALICE.email)
      .map((u) => ({ ...u, objectId: '6a0c2f3e-51b7-4d2c-8e90-1f4b3a5c7d05' })),
  };
  return { ...seed, tenants: [...seed.tenants, copy] } as DevAzureConfigInput;
}

const key = randomBytes(32).toString('base64');
const stack = usePortalStack({
  startApi: () =>
    startRecordingApi({
      policy: { policyNumber: 'PN0000000009' },
      record: () => ({}),
      gate: () => undefined,
    }),
  env: (identityUrl, apiUrl) => portalEnv({ b2cHost: identityUrl, policyApiUrl: apiUrl, key }),
  azureConfig: twoB2cTenants(),
});
let moved: InProcessPortal | undefined;
const jar = cookieJarClient(() => moved ?? stack.portal);
const local = (u: URL) => `${u.pathname}${u.search}`;
afterAll(async () => {
  await moved?.close();
});

it('B2C tenant A → tenant B: the session of tenant A is signed out (issuer), its request in flight dropped; signing in at B works', async () => {
  const a = new HttpBrowser(stack.azure.identityUrl);
  const page = expectPage(await a.open(String((await jar.get('/auth/sign-in')).headers.location)));
  await jar.get(local(expectRedirect(await a.submit(page, ALICE))));
  const claims = await jar.get('/claims');
  const oldIssuer = /data-claim="iss">([^<]+)</.exec(claims.body)?.[1];
  expect(oldIssuer).toContain('/5d4186f4-4fc8-47c2-beec-4b562b98e183/');
  const inFlight = new URL(String((await jar.get('/auth/edit-profile')).headers.location));
  const cookie = jar.cookie();

  moved = await startPortalInProcess({
    ...portalEnv({ b2cHost: stack.azure.identityUrl, policyApiUrl: stack.api.url, key }),
    B2C_TENANT_DOMAIN: `${NEW_TENANT.name}.onmicrosoft.com`,
    B2C_CLIENT_ID: NEW_TENANT.portalClientId,
    POLICY_API_APP_ID_URI: NEW_TENANT.apiAppIdUri,
    NATS_URL: stack.nats.url,
    DATABASE_URL: stack.portal.config.DATABASE_URL,
  });
  const home = await jar.get('/');
  expect(home.statusCode).toBe(200);
  expect(home.body).not.toContain('/auth/sign-out');
  expect(jar.cookie()).toBe(cookie); // same session (and CSRF token), signed out
  expect((await jar.get('/claims')).headers.location).toBe('/auth/sign-in?returnTo=%2Fclaims');
  const stale = await jar.get(`/auth/redirect?state=${inFlight.searchParams.get('state')}&code=x`);
  expect(stale.statusCode).toBe(400);

  const b = new HttpBrowser(stack.azure.identityUrl);
  const to = new URL(String((await jar.get('/auth/sign-in')).headers.location));
  expect(to.pathname).toMatch(new RegExp(`^/${NEW_TENANT.name}\\.onmicrosoft\\.com/`));
  const pageB = expectPage(await b.open(to.toString()));
  await jar.get(local(expectRedirect(await b.submit(pageB, ALICE))));
  const after = await jar.get('/claims');
  expect(after.statusCode).toBe(200);
  expect(after.body).toContain(`/${NEW_TENANT.id}/v2.0/`);
});
