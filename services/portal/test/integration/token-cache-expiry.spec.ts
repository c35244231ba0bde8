// The session's MSAL token cache growing old on External ID: an expired access token is renewed
// with the refresh token (a profile save goes through), and a refresh token the provider refuses
// (expired after inactivity, revoked: `invalid_grant`) sends the user to sign in again, back to the
// page, instead of a "service unavailable" page on every request that needs a token.
import {
  expectPage,
  expectRedirect,
  HttpBrowser,
} from '../../../../dev-azure/test/support/http-browser';
import { SessionStore } from '../../src/session/session-store';
import { cookieJarClient } from '../support/portal-client';
import { externalIdPortalEnv } from '../support/portal-env';
import { usePortalStack } from '../support/portal-stack';
import { startRecordingApi } from '../support/recording-api';

const ALICE = { email: 'alice@contoso.example', password: 'Alice-ext-Passw0rd!' };

const stack = usePortalStack({
  startApi: () =>
    startRecordingApi({
      policy: { policyNumber: 'PN0000000002' },
      record: () => ({}),
      gate: () => undefined,
    }),
  env: (identityUrl, apiUrl) => externalIdPortalEnv({ identityUrl, policyApiUrl: apiUrl }),
});
const jar = cookieJarClient(() => stack.portal);
const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

type CacheSection = Record<string, Record<string, string>>;

/** Rewrites the session's serialised MSAL cache (what time and the provider do to it). */
async function ageCache(change: (cache: Record<string, CacheSection>) => void): Promise<void> {
  const store = stack.portal.app.get(SessionStore);
  const s = (await store.load(jar.cookie()))!;
  const cache = JSON.parse(s.data.msalCache ?? '{}') as Record<string, CacheSection>;
  change(cache);
  const data = { ...s.data, msalCache: JSON.stringify(cache) };
  expect(await store.update(s, data, s.data)).toBe(true);
}
const expireAccessTokens = (cache: Record<string, CacheSection>) => {
  for (const at of Object.values(cache.AccessToken ?? {})) {
    at.expires_on = '1';
    at.extended_expires_on = '1';
  }
};

async function signIn(start: string): Promise<string> {
  const idp = new HttpBrowser(stack.azure.identityUrl);
  const page = expectPage(await idp.open(String((await jar.get(start)).headers.location)));
  const back = expectRedirect(await idp.submit(page, ALICE));
  return String((await jar.get(`${back.pathname}${back.search}`)).headers.location);
}

describe('an aged token cache on External ID', () => {
  const names = { givenName: 'Alicia', surname: 'Smith', displayName: 'Alicia Smith' };

  it('renews expired access tokens: the profile save reaches Graph and the claims show it', async () => {
    await signIn('/auth/sign-in');
    const form = await jar.get('/profile');
    expect(form.statusCode).toBe(200);
    await ageCache(expireAccessTokens);
    const saved = await jar.post('/profile', { ...names, _csrf: csrfOf(form.body) });
    expect(saved.statusCode).toBe(303);
    expect(saved.headers.location).toBe('/claims');
    expect((await jar.get('/claims')).body).toContain('Alicia Smith');
  });

  it('a refused refresh token means signing in again (back to the page), never a 502', async () => {
    const form = await jar.get('/profile');
    await ageCache((cache) => {
      expireAccessTokens(cache);
      for (const rt of Object.values(cache.RefreshToken ?? {})) rt.secret = 'revoked-at-the-idp';
    });
    const saved = await jar.post('/profile', { ...names, _csrf: csrfOf(form.body) });
    expect(saved.statusCode).toBe(303);
    expect(saved.headers.location).toBe('/auth/sign-in?returnTo=%2Fprofile');
    for (const path of ['/profile', '/policy']) {
      const res = await jar.get(path);
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe(`/auth/sign-in?returnTo=${encodeURIComponent(path)}`);
    }
    // Signing in again replaces the cache: the page works again.
    expect(await signIn('/auth/sign-in?returnTo=%2Fprofile')).toBe('/profile');
    expect((await jar.get('/profile')).statusCode).toBe(200);
  });
});
