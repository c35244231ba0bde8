// The session's MSAL token cache growing old on External ID: an expired access token is renewed
// with the refresh token (a profile save goes through), and a refresh token the provider refuses
// (expired after inactivity, revoked: `invalid_grant`) sends the user to sign in again, back to the
// page, instead of a "service unavailable" page on every request that needs a token; a profile
// save that meets it keeps what was typed (or that it was saved) for after that sign-in.
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
import {
  ageCache,
  expireAccessTokens,
  revokeRefreshTokens,
  type TokenCache,
} from '../support/token-cache';

const ALICE = { email: 'alice@contoso.example', password: 'Alice-ext-Passw0rd!' };
const CAROL = { email: 'carol@contoso.example', password: 'Carol-ext-Passw0rd!' };

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

const age = (change: (cache: TokenCache) => void) =>
  ageCache(stack.portal.app.get(SessionStore), jar.cookie(), change);

/** Signs in at an authorize URL with a fresh browser; returns where the portal sends the user. */
async function signInAt(authorize: string | URL, who = ALICE): Promise<string> {
  const idp = new HttpBrowser(stack.azure.identityUrl);
  const page = expectPage(await idp.open(String(authorize)));
  const back = expectRedirect(await idp.submit(page, who));
  return String((await jar.get(`${back.pathname}${back.search}`)).headers.location);
}

const signIn = async (start: string): Promise<string> =>
  signInAt(String((await jar.get(start)).headers.location));

describe('an aged token cache on External ID', () => {
  const names = { givenName: 'Alicia', surname: 'Smith', displayName: 'Alicia Smith' };

  it('renews expired access tokens: the profile save reaches Graph and the claims show it', async () => {
    await signIn('/auth/sign-in');
    const form = await jar.get('/profile');
    expect(form.statusCode).toBe(200);
    await age(expireAccessTokens);
    const saved = await jar.post('/profile', { ...names, _csrf: csrfOf(form.body) });
    expect(saved.statusCode).toBe(303);
    expect(saved.headers.location).toBe('/claims');
    expect((await jar.get('/claims')).body).toContain('Alicia Smith');
  });

  it('a refused refresh token means signing in again, never a 502; a profile save comes back to its form with what was typed, unsaved', async () => {
    const form = await jar.get('/profile');
    await age((cache) => {
      expireAccessTokens(cache);
      revokeRefreshTokens(cache);
    });
    const typed = { givenName: 'Typed', surname: 'Meanwhile', displayName: 'Typed Meanwhile' };
    const saved = await jar.post('/profile', { ...typed, _csrf: csrfOf(form.body) });
    expect(saved.statusCode).toBe(303);
    // Straight to the identity provider's sign-in; what was typed stays on the server.
    const authorize = new URL(String(saved.headers.location));
    expect(authorize.origin).toBe(stack.azure.identityUrl);
    expect(authorize.href).not.toMatch(/Typed|Meanwhile/);
    for (const path of ['/profile', '/policy']) {
      const res = await jar.get(path);
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe(`/auth/sign-in?returnTo=${encodeURIComponent(path)}`);
    }
    // Signing in again replaces the cache and brings the form back with the typed names, once.
    expect(await signInAt(authorize)).toBe('/profile');
    const back = await jar.get('/profile');
    expect(back.statusCode).toBe(200);
    expect(back.body).toContain('value="Typed"');
    expect(back.body).toContain('value="Typed Meanwhile"');
    expect(back.body).toContain('Your changes are not saved yet');
    // Not saved: the directory still has the names of the first test.
    const directory = await jar.get('/profile');
    expect(directory.body).toContain('value="Alicia Smith"');
    // Saved only when the user saves them, validated as always.
    const invalid = await jar.post('/profile', {
      ...typed,
      givenName: '',
      _csrf: csrfOf(back.body),
    });
    expect(invalid.statusCode).toBe(400);
    const done = await jar.post('/profile', { ...typed, _csrf: csrfOf(back.body) });
    expect(done.headers.location).toBe('/claims');
    expect((await jar.get('/claims')).body).toContain('Typed Meanwhile');
  });

  it('a profile saved whose token renewal is then refused: after signing in again the user is told it was saved', async () => {
    const form = await jar.get('/profile'); // the Graph token is in the cache: the save goes through
    await age(revokeRefreshTokens);
    const saved = await jar.post('/profile', {
      givenName: 'Ada',
      surname: 'Lovelace',
      displayName: 'Ada Lovelace',
      _csrf: csrfOf(form.body),
    });
    expect(saved.statusCode).toBe(303);
    const authorize = new URL(String(saved.headers.location));
    expect(authorize.origin).toBe(stack.azure.identityUrl);
    expect(await signInAt(authorize)).toBe('/claims');
    const claims = await jar.get('/claims');
    expect(claims.body).toContain('Your profile was updated.');
    expect(claims.body).toContain('Ada Lovelace');
  });

  it('the typed names wait 15 minutes after the sign-in: opened later, the form shows the directory (the draft never expired)', async () => {
    const form = await jar.get('/profile');
    await age((cache) => {
      expireAccessTokens(cache);
      revokeRefreshTokens(cache);
    });
    const saved = await jar.post('/profile', {
      givenName: 'Stale',
      surname: 'Draft',
      displayName: 'Stale Draft',
      _csrf: csrfOf(form.body),
    });
    expect(await signInAt(new URL(String(saved.headers.location)))).toBe('/profile');
    // The user goes elsewhere instead, and opens the form 16 minutes after the sign-in.
    const store = stack.portal.app.get(SessionStore);
    const s = (await store.load(jar.cookie()))!;
    const draft = s.data.profileDraft!;
    const aged = { ...draft, createdAt: draft.createdAt - 16 * 60 * 1000 };
    expect(await store.update(s, { ...s.data, profileDraft: aged }, s.data)).toBe(true);
    const later = await jar.get('/profile');
    expect(later.statusCode).toBe(200);
    expect(later.body).not.toContain('Stale');
    expect(later.body).toContain('value="Ada Lovelace"'); // the directory's, saved before
    expect((await store.load(jar.cookie()))!.data.profileDraft).toBeUndefined();
  });

  it('what was typed is only ever shown to the one who typed it: another account signing in at the prompt does not see it', async () => {
    const form = await jar.get('/profile');
    await age((cache) => {
      expireAccessTokens(cache);
      revokeRefreshTokens(cache);
    });
    const saved = await jar.post('/profile', {
      givenName: 'Private',
      surname: 'Draft',
      displayName: 'Private Draft',
      _csrf: csrfOf(form.body),
    });
    expect(await signInAt(new URL(String(saved.headers.location)), CAROL)).toBe('/profile');
    const carols = await jar.get('/profile');
    expect(carols.statusCode).toBe(200);
    expect(carols.body).not.toContain('Private');
    expect(carols.body).not.toContain('not saved yet');
  });
});
