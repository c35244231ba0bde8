// An identity provider outage with no cached metadata: every signed-in request asks for the
// issuer (session hooks) and gets the remembered failure. The warning is logged once per failure
// window (30 s), not once per request; and signing out still works (the standard logout path).
import { startPostgres, type TestPostgres } from '@idp/testing';
import { PORTAL_LOG, type Logger } from '../../src/log';
import { SessionStore } from '../../src/session/session-store';
import { startPortalInProcess, type InProcessPortal } from '../support/portal-app';
import { portalClient } from '../support/portal-client';
import { portalEnv } from '../support/portal-env';

let pg: TestPostgres;
let portal: InProcessPortal;

beforeAll(async () => {
  pg = await startPostgres();
  // Nothing listens on port 9: every metadata fetch fails.
  portal = await startPortalInProcess({
    ...portalEnv({ b2cHost: 'https://localhost:9' }),
    DATABASE_URL: await pg.createDatabase(),
  });
}, 60000);
afterAll(async () => {
  await portal?.close();
  await pg?.stop();
});

afterEach(() => jest.restoreAllMocks());

const { get } = portalClient(() => portal);

it('logs "openid-configuration unavailable" once per failure window, not per request', async () => {
  const store = portal.app.get(SessionStore);
  const cookie = store.newCookieValue();
  await store.create(cookie, {
    csrf: 'c'.repeat(43),
    pending: {},
    user: {
      oid: 'oid-1',
      homeAccountId: 'oid-1-b2c_1_signupsignin.tenant',
      claims: { iss: 'https://issuer.example/', name: 'Alice' },
      idTokenFlow: 'B2C_1_signupsignin',
      signedInAt: Date.now(),
    },
  });
  const warn = jest.spyOn(portal.app.get<Logger>(PORTAL_LOG), 'warn');
  const outageLines = () =>
    warn.mock.calls.filter((c) => c.includes('openid-configuration unavailable')).length;

  for (let i = 0; i < 5; i++) expect((await get('/claims', cookie)).statusCode).toBe(200);
  expect(outageLines()).toBe(1);

  // The next window: the cache tries again, fails again, and that failure is logged once more.
  const realNow = Date.now.bind(Date);
  jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 31_000);
  for (let i = 0; i < 3; i++) expect((await get('/claims', cookie)).statusCode).toBe(200);
  expect(outageLines()).toBe(2);
});

it('signs out while the metadata cannot be had: the standard logout path, never a 500', async () => {
  const store = portal.app.get(SessionStore);
  const cookie = store.newCookieValue();
  const csrf = 'd'.repeat(43);
  await store.create(cookie, {
    csrf,
    pending: {},
    user: {
      oid: 'oid-2',
      homeAccountId: 'oid-2-b2c_1_signupsignin.tenant',
      claims: { iss: 'https://issuer.example/' },
      idTokenFlow: 'B2C_1_signupsignin',
      signedInAt: Date.now(),
    },
  });
  const res = await portalClient(() => portal).post('/auth/sign-out', { _csrf: csrf }, cookie);
  expect(res.statusCode).toBe(303);
  const to = new URL(String(res.headers.location));
  expect(`${to.origin}${to.pathname}`).toBe(
    'https://localhost:9/contoso.onmicrosoft.com/b2c_1_signupsignin/oauth2/v2.0/logout',
  );
  expect(to.searchParams.get('post_logout_redirect_uri')).toBe('https://localhost:8443/');
  expect(await store.load(cookie)).toBeUndefined();
});
