// A tenant switch within one provider: the portal restarted on another tenant (B2C_TENANT_DOMAIN,
// or EXTERNAL_ID_AUTHORITY) with the same session table and key. A session signed in at the old
// tenant must not pass for signed in at the new one (its claims, token cache and sign-out are the
// old tenant's): its ID token's issuer is not the new metadata's issuer, so it is signed out.
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
import { EXTERNAL_ID, externalIdPortalEnv, portalEnv } from '../support/portal-env';
import { usePortalStack } from '../support/portal-stack';
import { startRecordingApi } from '../support/recording-api';
import { B2C_ALICE } from '../support/b2c-sign-in';

const ALICE = B2C_ALICE;
const ALICE_EXT = { email: 'alice@contoso.example', password: 'Alice-ext-Passw0rd!' };
const NEW_B2C = {
  name: 'contosonew',
  id: '0b6f5c1e-7d4a-4b8e-9a51-3c2d1e0f9a77',
  portalClientId: '6a0c2f3e-51b7-4d2c-8e90-1f4b3a5c7d01',
  apiAppIdUri: 'https://contosonew.onmicrosoft.com/policy-api',
};
const NEW_EXT = {
  name: 'contosoextnew',
  id: '7c9e2a41-3b5d-4f60-8a1e-2d4c6b8e0f13',
  portalClientId: '7c9e2a41-3b5d-4f60-8a1e-2d4c6b8e0f21',
  apiClientId: '7c9e2a41-3b5d-4f60-8a1e-2d4c6b8e0f23',
};

interface SeedTenant {
  type: string;
  apps: { name: string; [k: string]: unknown }[];
  users: { email: string; [k: string]: unknown }[];
  [k: string]: unknown;
}

/** A copy of the seed's tenant of `type` with ids of its own: the portal and the API apps, alice. */
function copyOf(
  seed: SeedTenant[],
  type: string,
  ids: { name: string; id: string; portalClientId: string; apiClientId: string; apiUri: string },
  idPrefix: string,
): SeedTenant {
  const from = seed.find((t) => t.type === type)!;
  const app = (name: string) => from.apps.find((a) => a.name === name)!;
  return {
    ...from,
    name: ids.name,
    id: ids.id,
    servicePrincipals: [],
    apps: [
      { ...app('portal'), clientId: ids.portalClientId, servicePrincipalId: `${idPrefix}02` },
      {
        ...app('policy-api'),
        clientId: ids.apiClientId,
        servicePrincipalId: `${idPrefix}04`,
        identifierUris: [ids.apiUri],
      },
    ],
    users: from.users
      .filter((u) => u.email === ALICE.email)
      .map(({ legacyB2cObjectId: _legacy, ...u }) => ({ ...u, objectId: `${idPrefix}05` })),
  };
}

/** The seed configuration plus a second B2C tenant and a second external tenant. */
function withSecondTenants(): DevAzureConfigInput {
  const seed = JSON.parse(readFileSync(seedConfigPath, 'utf8')) as {
    tenants: SeedTenant[];
  } & Record<string, unknown>;
  const b2c = copyOf(
    seed.tenants,
    'b2c',
    {
      name: NEW_B2C.name,
      id: NEW_B2C.id,
      portalClientId: NEW_B2C.portalClientId,
      apiClientId: '6a0c2f3e-51b7-4d2c-8e90-1f4b3a5c7d03',
      apiUri: NEW_B2C.apiAppIdUri,
    },
    '6a0c2f3e-51b7-4d2c-8e90-1f4b3a5c7d',
  );
  const ext = copyOf(
    seed.tenants,
    'external',
    {
      name: NEW_EXT.name,
      id: NEW_EXT.id,
      portalClientId: NEW_EXT.portalClientId,
      apiClientId: NEW_EXT.apiClientId,
      apiUri: `api://${NEW_EXT.apiClientId}`,
    },
    '7c9e2a41-3b5d-4f60-8a1e-2d4c6b8e0f',
  );
  return { ...seed, tenants: [...seed.tenants, b2c, ext] } as DevAzureConfigInput;
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
  azureConfig: withSecondTenants(),
});
const started: InProcessPortal[] = [];
let current: InProcessPortal | undefined;
const jar = cookieJarClient(() => current ?? stack.portal);
const local = (u: URL) => `${u.pathname}${u.search}`;

/** Another portal process on the same database and key (a restart with new settings). */
async function restartWith(env: Record<string, string>): Promise<void> {
  current = await startPortalInProcess({
    ...env,
    DATABASE_URL: stack.portal.config.DATABASE_URL,
  });
  started.push(current);
}

async function signIn(user: { email: string; password: string }): Promise<void> {
  const idp = new HttpBrowser(stack.azure.identityUrl);
  const page = expectPage(
    await idp.open(String((await jar.get('/auth/sign-in')).headers.location)),
  );
  expect((await jar.get(local(expectRedirect(await idp.submit(page, user))))).statusCode).toBe(303);
}

/** After the restart: same cookie, signed out, the old request in flight refused. */
async function expectSignedOut(cookie: string, staleState: string): Promise<void> {
  const home = await jar.get('/');
  expect(home.statusCode).toBe(200);
  expect(home.body).not.toContain('/auth/sign-out');
  expect(jar.cookie()).toBe(cookie); // same session (and CSRF token), signed out
  expect((await jar.get('/claims')).headers.location).toBe('/auth/sign-in?returnTo=%2Fclaims');
  expect((await jar.get(`/auth/redirect?state=${staleState}&code=x`)).statusCode).toBe(400);
}

afterAll(async () => {
  for (const p of started) await p.close();
});

it('B2C tenant A → tenant B (B2C_TENANT_DOMAIN): the session of A is signed out (issuer), its request in flight dropped; signing in at B works', async () => {
  await signIn(ALICE);
  const claims = await jar.get('/claims');
  expect(claims.body).toContain('/5d4186f4-4fc8-47c2-beec-4b562b98e183/v2.0/');
  const inFlight = new URL(String((await jar.get('/auth/edit-profile')).headers.location));
  const cookie = jar.cookie();

  await restartWith({
    ...portalEnv({ b2cHost: stack.azure.identityUrl, policyApiUrl: stack.api.url, key }),
    B2C_TENANT_DOMAIN: `${NEW_B2C.name}.onmicrosoft.com`,
    B2C_CLIENT_ID: NEW_B2C.portalClientId,
    POLICY_API_APP_ID_URI: NEW_B2C.apiAppIdUri,
  });
  await expectSignedOut(cookie, inFlight.searchParams.get('state') ?? '');

  const to = new URL(String((await jar.get('/auth/sign-in')).headers.location));
  expect(to.pathname).toMatch(new RegExp(`^/${NEW_B2C.name}\\.onmicrosoft\\.com/`));
  await signIn(ALICE);
  const after = await jar.get('/claims');
  expect(after.statusCode).toBe(200);
  expect(after.body).toContain(`/${NEW_B2C.id}/v2.0/`);
});

it('External ID tenant A → tenant B (EXTERNAL_ID_AUTHORITY): the same', async () => {
  await restartWith(
    externalIdPortalEnv({ identityUrl: stack.azure.identityUrl, policyApiUrl: stack.api.url, key }),
  );
  await signIn(ALICE_EXT);
  expect((await jar.get('/claims')).body).toContain(`/${EXTERNAL_ID.tenantId}/v2.0<`);
  const inFlight = new URL(String((await jar.get('/auth/reset-password')).headers.location));
  const cookie = jar.cookie();

  await restartWith({
    ...externalIdPortalEnv({
      identityUrl: stack.azure.identityUrl,
      policyApiUrl: stack.api.url,
      key,
    }),
    EXTERNAL_ID_AUTHORITY: `${stack.azure.identityUrl}/${NEW_EXT.id}`,
    EXTERNAL_ID_CLIENT_ID: NEW_EXT.portalClientId,
    POLICY_API_APP_ID_URI: `api://${NEW_EXT.apiClientId}`,
  });
  await expectSignedOut(cookie, inFlight.searchParams.get('state') ?? '');

  await signIn(ALICE_EXT);
  const after = await jar.get('/claims');
  expect(after.statusCode).toBe(200);
  expect(after.body).toContain(`/${NEW_EXT.id}/v2.0<`);
});
