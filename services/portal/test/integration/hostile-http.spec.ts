// What a demanding user or an attacker tries against the real portal (B2C stand-in, a recording
// policy API that wants the MFA flow for writes): tampered and oversized cookies, a CSRF token
// carried to another session, a sign-in response replayed, the session ending in the middle of
// a step-up, a deep link followed while signed out.
import { request } from 'node:http';
import { Client } from 'pg';
import {
  expectPage,
  expectRedirect,
  HttpBrowser,
} from '../../../../dev-azure/test/support/http-browser';
import { SessionStore, sessionRowId } from '../../src/session/session-store';
import { startPortalInProcess } from '../support/portal-app';
import { COOKIE, cookieJarClient, portalClient } from '../support/portal-client';
import { portalEnv } from '../support/portal-env';
import { usePortalStack } from '../support/portal-stack';
import { flowOf, MFA_FLOW, startRecordingApi } from '../support/recording-api';
import { B2C_ALICE } from '../support/b2c-sign-in';

const ALICE = B2C_ALICE;

const stack = usePortalStack({
  startApi: () =>
    startRecordingApi({
      policy: { policyNumber: 'PN0000000010' },
      record: () => ({}),
      gate: (claims) =>
        flowOf(claims) === MFA_FLOW
          ? undefined
          : {
              wwwAuthenticate: `Bearer error="insufficient_user_authentication", acr_values="${MFA_FLOW}", max_age=600`,
            },
    }),
  env: (identityUrl, apiUrl) => portalEnv({ b2cHost: identityUrl, policyApiUrl: apiUrl }),
});
const { get, post } = portalClient(() => stack.portal);
const local = (u: URL) => `${u.pathname}${u.search}`;
const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

/** Signs Alice in through the stand-in with a fresh browser; returns her jar (at `returnTo`). */
async function signIn(returnTo?: string) {
  const jar = cookieJarClient(() => stack.portal);
  const start = await jar.get(
    returnTo === undefined ? '/auth/sign-in' : `/auth/sign-in?returnTo=${returnTo}`,
  );
  const b2c = new HttpBrowser(stack.azure.identityUrl);
  const page = expectPage(await b2c.open(String(start.headers.location)));
  const callback = local(expectRedirect(await b2c.submit(page, ALICE)));
  const landed = await jar.get(callback);
  return { jar, callback, landed };
}

function expectErrorPage(
  res: { statusCode: number; body: string; headers: object },
  status: number,
) {
  expect(res.statusCode).toBe(status);
  expect(res.body).toContain('id="correlationId">');
  expect(res.body).not.toMatch(/\bat [\w.<>]+ \(|\.ts:\d+|node_modules/);
}

it('a tampered session cookie is no session: signed out, never a 500, the real session untouched', async () => {
  const { jar } = await signIn();
  const real = jar.cookie();
  const flipped = `${real.slice(0, 10)}${real[10] === 'A' ? 'B' : 'A'}${real.slice(11)}`;
  for (const cookie of [flipped, `${real}x`, real.slice(0, 42), 'x'.repeat(8000), '%00%ff', '']) {
    const res = await get('/claims', cookie);
    expect([cookie.slice(0, 20), res.statusCode]).toEqual([cookie.slice(0, 20), 303]);
    expect(res.headers.location).toBe('/auth/sign-in?returnTo=%2Fclaims');
  }
  expect((await get('/claims', real)).statusCode).toBe(200);
});

it('an oversized Cookie header is refused (431) before any handler, and the portal goes on serving', async () => {
  const listening = await startPortalInProcess(
    {
      ...portalEnv({ b2cHost: stack.azure.identityUrl, policyApiUrl: stack.api.url }),
      DATABASE_URL: stack.portal.config.DATABASE_URL,
    },
    { listen: true },
  );
  try {
    const status = (cookie: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(`${listening.url}/claims`, { headers: { cookie } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    expect(await status(`${COOKIE}=${'a'.repeat(64 * 1024)}`)).toBe(431);
    expect(await status(`${COOKIE}=${'a'.repeat(43)}`)).toBe(303);
  } finally {
    await listening.close();
  }
});

it("a CSRF token is good only in its own session: another session's token signs no one out", async () => {
  const a = await signIn();
  const b = await signIn();
  const tokenA = csrfOf((await a.jar.get('/policy/beneficiaries')).body);
  expect(tokenA).not.toBe('');
  // b is signed in: a sign-out it cannot trust is answered with a confirmation page, not done.
  const expectConfirmation = (res: { statusCode: number; body: string }) => {
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('You are still signed in.');
  };
  expectConfirmation(await post('/auth/sign-out', { _csrf: tokenA }, b.jar.cookie()));
  expect((await b.jar.get('/claims')).statusCode).toBe(200); // b is still signed in
  // The token from before the sign-in (an anonymous session's) is not the signed-in one's either.
  const anon = await get('/auth/sign-in');
  const anonCookie = /__Host-portal_sid=([^;]+)/.exec(String(anon.headers['set-cookie']))?.[1];
  const anonToken = (await stack.portal.app.get(SessionStore).load(anonCookie ?? ''))?.data.csrf;
  expectConfirmation(await post('/auth/sign-out', { _csrf: anonToken ?? '' }, a.jar.cookie()));
  expect((await a.jar.get('/claims')).statusCode).toBe(200);
  // A session with no user (its sign-in waiting at the identity provider): no one in the portal to
  // sign out, so another session's token gets only the identity provider's logout (any site can
  // link to it), and that session, its sign-in included, is left as it was. It was a 403 that
  // left the IdP session alive after a timeout (the next person in without a password).
  const anonBefore = (await stack.portal.app.get(SessionStore).load(anonCookie ?? ''))?.data;
  const anonOut = await post('/auth/sign-out', { _csrf: tokenA }, anonCookie);
  expect(anonOut.statusCode).toBe(303);
  expect(String(anonOut.headers.location)).toMatch(/\/oauth2\/v2\.0\/logout\?/);
  expect(anonOut.headers['set-cookie']).toBeUndefined();
  expect((await stack.portal.app.get(SessionStore).load(anonCookie ?? ''))?.data).toEqual(
    anonBefore,
  );
  for (const jar of [a.jar, b.jar]) expect((await jar.get('/claims')).statusCode).toBe(200);
  // From another site: refused outright, as before.
  expectErrorPage(
    await post('/auth/sign-out', { _csrf: tokenA }, anonCookie, { origin: 'https://evil.example' }),
    403,
  );
});

it('a sign-in response replayed: a signed-in browser is taken home with nothing changed, any other gets a 400 page', async () => {
  const store = stack.portal.app.get(SessionStore);
  const { jar, callback, landed } = await signIn();
  expect(landed.statusCode).toBe(303);
  const other = await signIn();
  for (const cookie of [jar.cookie(), other.jar.cookie()]) {
    const before = (await store.load(cookie))!;
    const again = await get(callback, cookie);
    expect(again.statusCode).toBe(303);
    expect(again.headers.location).toBe('/');
    expect(again.headers['set-cookie']).toBeUndefined(); // no new session id
    const after = (await store.load(cookie))!;
    expect(after.version).toBe(before.version); // nothing written back
    expect(after.data).toEqual(before.data);
    expect((await get('/claims', cookie)).statusCode).toBe(200);
  }
  expectErrorPage(await get(callback), 400); // a browser without the session
  // A browser whose session is not signed in: the response is not one it started.
  const anon = cookieJarClient(() => stack.portal);
  await anon.get('/auth/sign-in');
  expectErrorPage(await anon.get(callback), 400);
});

it('a deep link followed while signed out comes back to that page after sign-in; returnTo leaves the site never', async () => {
  const anon = cookieJarClient(() => stack.portal);
  const deep = await anon.get('/policy/history?page=2');
  expect(deep.headers.location).toBe('/auth/sign-in?returnTo=%2Fpolicy%2Fhistory%3Fpage%3D2');
  const { landed } = await signIn(encodeURIComponent('/policy/history?page=2'));
  expect(landed.headers.location).toBe('/policy/history?page=2');
  // A form posted from a session that is no longer signed in: back to the form after sign-in.
  const started = await anon.get('/auth/sign-in');
  expect(started.statusCode).toBe(302);
  const token = (await stack.portal.app.get(SessionStore).load(anon.cookie()))?.data.csrf ?? '';
  const posted = await anon.post('/policy/beneficiaries', { _csrf: token, name1: 'Sam' });
  expect(posted.headers.location).toBe('/auth/sign-in?returnTo=%2Fpolicy%2Fbeneficiaries');
  for (const evil of ['//evil.example/', '/\\evil.example', 'https://evil.example/', '/\t/evil']) {
    const { landed: l } = await signIn(encodeURIComponent(evil));
    expect([evil, l.headers.location]).toEqual([evil, '/']);
  }
});

it('the session ends in the middle of the step-up: the response is a clear 400 page, nothing is written', async () => {
  const { jar } = await signIn();
  const form = await jar.get('/policy/beneficiaries');
  const res = await jar.post('/policy/beneficiaries', {
    _csrf: csrfOf(form.body),
    etag: '"v1"',
    name1: 'Sam',
    relationship1: 'spouse',
    share1: '100',
  });
  const authorize = new URL(String(res.headers.location));
  expect(authorize.pathname).toMatch(/b2c_1_signupsignin_mfa/i);
  const puts = stack.api.calls.filter((c) => c.method === 'PUT').length;
  // The idle timeout passes while the user is at the identity provider.
  const db = new Client({ connectionString: stack.portal.config.DATABASE_URL });
  await db.connect();
  try {
    await db.query(
      "UPDATE session SET idle_expires_at = now() - interval '1 second' WHERE id = $1",
      [sessionRowId(jar.cookie())],
    );
  } finally {
    await db.end();
  }
  const back = await jar.get(
    `/auth/redirect?state=${authorize.searchParams.get('state')}&code=any-code`,
  );
  expectErrorPage(back, 400);
  // It says what happened (it said "not one this browser started, or already used").
  expect(back.body).toContain('Your session ended before the sign-in or verification came back');
  expect(stack.api.calls.filter((c) => c.method === 'PUT')).toHaveLength(puts);
  expect((await jar.get('/policy')).headers.location).toBe('/auth/sign-in?returnTo=%2Fpolicy');
});
