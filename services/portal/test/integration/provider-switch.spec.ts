// Switching CUSTOMER_IDENTITY_PROVIDER (B2C → External ID, the migration) on the same session
// table and key: a session signed in at B2C must not pass for signed in at External ID (it showed
// B2C's claims and sent its sign-out to the wrong tenant, while every API call needed a sign-in).
import { randomBytes } from 'node:crypto';
import {
  expectPage,
  expectRedirect,
  HttpBrowser,
} from '../../../../dev-azure/test/support/http-browser';
import { startPortalInProcess, type InProcessPortal } from '../support/portal-app';
import { cookieJarClient } from '../support/portal-client';
import { usePortalStack } from '../support/portal-stack';
import { EXTERNAL_ID, externalIdPortalEnv, portalEnv } from '../support/portal-env';
import { startRecordingApi } from '../support/recording-api';

const key = randomBytes(32).toString('base64');
const stack = usePortalStack({
  startApi: () =>
    startRecordingApi({
      policy: { policyNumber: 'PN0000000003' },
      record: (claims) => ({ oid: claims.oid }),
      gate: () => undefined,
    }),
  env: (identityUrl, apiUrl) => portalEnv({ b2cHost: identityUrl, policyApiUrl: apiUrl, key }),
});
let externalId: InProcessPortal | undefined;
const jar = cookieJarClient(() => externalId ?? stack.portal);
const local = (u: URL) => `${u.pathname}${u.search}`;

afterAll(async () => {
  await externalId?.close();
});

it('B2C → External ID: the B2C sign-in and a B2C request in flight are forgotten; signing in at External ID works', async () => {
  const b2c = new HttpBrowser(stack.azure.identityUrl);
  const start = await jar.get('/auth/sign-in?returnTo=/claims');
  const page = expectPage(await b2c.open(String(start.headers.location)));
  const back = expectRedirect(
    await b2c.submit(page, { email: 'alice@contoso.example', password: 'Alice-dev-Passw0rd!' }),
  );
  expect((await jar.get(local(back))).headers.location).toBe('/claims');
  expect((await jar.get('/claims')).body).toContain('data-claim="tfp">B2C_1_signupsignin<');
  // A B2C edit-profile request in flight when the provider is switched.
  const inFlight = new URL(String((await jar.get('/auth/edit-profile')).headers.location));
  const b2cState = inFlight.searchParams.get('state') ?? '';
  const cookie = jar.cookie();

  externalId = await startPortalInProcess({
    ...externalIdPortalEnv({
      identityUrl: stack.azure.identityUrl,
      policyApiUrl: stack.api.url,
      key,
    }),
    DATABASE_URL: stack.portal.config.DATABASE_URL,
  });
  const home = await jar.get('/');
  expect(home.statusCode).toBe(200);
  expect(home.body).not.toContain('/auth/sign-out');
  expect(jar.cookie()).toBe(cookie); // the session (and its CSRF token) stays, signed out
  expect((await jar.get('/claims')).headers.location).toBe('/auth/sign-in?returnTo=%2Fclaims');
  // The B2C request's state is no longer one this portal started.
  const stale = await jar.get(`/auth/redirect?state=${b2cState}&code=b2c-code`);
  expect(stale.statusCode).toBe(400);

  const ext = new HttpBrowser(stack.azure.identityUrl);
  const to = new URL(String((await jar.get('/auth/sign-in?returnTo=/claims')).headers.location));
  expect(to.pathname).toBe(`/${EXTERNAL_ID.tenantId}/oauth2/v2.0/authorize`);
  const extPage = expectPage(await ext.open(to.toString()));
  const extBack = expectRedirect(
    await ext.submit(extPage, {
      email: 'alice@contoso.example',
      password: 'Alice-ext-Passw0rd!',
    }),
  );
  expect((await jar.get(local(extBack))).headers.location).toBe('/claims');
  const claims = await jar.get('/claims');
  expect(claims.body).toContain('data-claim="oid">8ba502aa-af7e-420f-bb1a-6adf2ed270dc<');
  expect(claims.body).not.toContain('data-claim="tfp"');
});
