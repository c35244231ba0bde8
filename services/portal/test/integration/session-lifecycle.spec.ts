// An ended session stays ended: a request that loaded the session before a
// sign-out or a sign-in rotation must not write it back to life afterwards.
// The portal in-process against real PostgreSQL and the B2C stand-in;
// a held session load makes the interleavings deterministic.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevAzure, type DevAzure } from '@idp/dev-azure';
import { startPostgres, type TestPostgres } from '@idp/testing';
import { Client } from 'pg';
import {
  expectPage,
  expectRedirect,
  HttpBrowser,
} from '../../../../dev-azure/test/support/http-browser';
import { sessionRowId, SessionStore } from '../../src/session/session-store';
import { startPortalInProcess, type InProcessPortal } from '../support/portal-app';
import { portalClient, sessionCookie } from '../support/portal-client';
import { portalEnv } from '../support/portal-env';
import { holdNextLoad } from '../support/session-gate';
import { B2C_ALICE } from '../support/b2c-sign-in';

const ALICE = B2C_ALICE;

let pg: TestPostgres;
let azure: DevAzure;
let dataDir: string;
let portal: InProcessPortal;
let db: Client;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'portal-lifecycle-'));
  [pg, azure] = await Promise.all([startPostgres(), startDevAzure({ dataDir, keyVault: false })]);
  const databaseUrl = await pg.createDatabase();
  portal = await startPortalInProcess({
    ...portalEnv({ b2cHost: azure.identityUrl }),
    DATABASE_URL: databaseUrl,
  });
  db = new Client({ connectionString: databaseUrl });
  await db.connect();
}, 60000);
afterAll(async () => {
  await db?.end();
  await portal?.close();
  await Promise.all([pg?.stop(), azure?.stop()]);
  rmSync(dataDir, { recursive: true, force: true });
});

const { get, post } = portalClient(() => portal);
const store = () => portal.app.get(SessionStore);

/** Signs Alice in through the B2C stand-in (from `cookie`'s session if given); returns the rotated cookie. */
async function signIn(cookie?: string): Promise<string> {
  const start = await get('/auth/sign-in', cookie);
  const b2c = new HttpBrowser(azure.identityUrl);
  const page = expectPage(await b2c.open(String(start.headers.location)));
  const back = expectRedirect(await b2c.submit(page, ALICE));
  const done = await get(`${back.pathname}${back.search}`, cookie ?? sessionCookie(start).value);
  expect(done.statusCode).toBe(303);
  return sessionCookie(done).value;
}

async function signOut(cookie: string): Promise<void> {
  const csrf = (await store().load(cookie))!.data.csrf;
  const res = await post('/auth/sign-out', { _csrf: csrf }, cookie);
  expect(res.statusCode).toBe(303);
}

/** Request-level proof that a session works: /claims shows the user. */
async function expectSignedIn(cookie: string): Promise<void> {
  expect((await get('/claims', cookie)).statusCode).toBe(200);
}

/** The cookie gets nowhere, and its row (with the token cache) is not in the table. */
async function expectDead(cookie: string): Promise<void> {
  const rows = await db.query('SELECT 1 FROM session WHERE id = $1', [sessionRowId(cookie)]);
  expect(rows.rowCount).toBe(0);
  for (const path of ['/claims', '/policy']) {
    const res = await get(path, cookie);
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(`/auth/sign-in?returnTo=${encodeURIComponent(path)}`);
  }
}

describe('session lifecycle', () => {
  it('a request that loaded the session before sign-out does not bring it back when it writes', async () => {
    const cookie = await signIn();
    await expectSignedIn(cookie);
    const held = holdNextLoad(store(), cookie);
    // Starting a sign-in writes the session back (a new pending state): the write to refuse.
    const slow = get('/auth/sign-in', cookie);
    await held.loaded;
    await signOut(cookie);
    held.release();
    expect((await slow).statusCode).toBe(302);
    await expectDead(cookie);
  });

  it('a request that loaded the pre-rotation session does not bring it back after the sign-in rotated it', async () => {
    const before = await signIn();
    const held = holdNextLoad(store(), before);
    const slow = get('/auth/sign-in', before);
    await held.loaded;
    const after = await signIn(before); // signing in again rotates the session id
    expect(after).not.toBe(before);
    held.release();
    expect((await slow).statusCode).toBe(302);
    await expectDead(before);
    await expectSignedIn(after); // the slow response did not disturb the new session
  });

  it('a sign-out sent with the old cookie while another tab signed in ends the new session too', async () => {
    const before = await signIn();
    const oldCsrf = (await store().load(before))!.data.csrf;
    const after = await signIn(before); // the other tab's sign-in rotates the id first
    const res = await post('/auth/sign-out', { _csrf: oldCsrf }, before);
    expect(res.statusCode).toBe(303);
    expect(String(res.headers['set-cookie'])).toMatch(/__Host-portal_sid=;/);
    await expectDead(before);
    await expectDead(after);
  });

  it('the old cookie without its own CSRF token cannot end the rotated session', async () => {
    const before = await signIn();
    const after = await signIn(before);
    const newCsrf = (await store().load(after))!.data.csrf;
    for (const token of ['x'.repeat(43), newCsrf]) {
      const res = await post('/auth/sign-out', { _csrf: token }, before);
      expect(res.statusCode).toBe(403);
    }
    await expectSignedIn(after);
  });

  it('an anonymous session rotated by sign-in leaves a link no token can follow: its planted cookie and token cannot sign the user out', async () => {
    // Session fixation: whoever planted this anonymous cookie also knows its CSRF token.
    const planted = sessionCookie(await get('/auth/sign-in')).value;
    const plantedCsrf = (await store().load(planted))!.data.csrf;
    const after = await signIn(planted);
    const res = await post('/auth/sign-out', { _csrf: plantedCsrf }, planted);
    // Nothing is ended (the portal session it was rotated into is untouched), and the sign-out is
    // not sent to the identity provider's logout either, which would leave that session alive
    // behind a user who believes they signed out: the page says they are still signed in.
    expectStillSignedInPage(res);
    await expectSignedIn(after);
  });

  /** A sign-out that ended nothing and says so: no logout, no cookie change, not an error to retry blindly. */
  function expectStillSignedInPage(res: Awaited<ReturnType<typeof post>>): void {
    expect(res.statusCode).toBe(409);
    expect(res.body).toContain('You are still signed in');
    expect(res.body).toContain('You signed in again in another window a moment ago');
    expect(res.headers.location).toBeUndefined();
    expect(res.headers['set-cookie']).toBeUndefined();
  }

  /** Alice's session whose idle timeout passes while a page with its sign-out form stays open. */
  async function timedOutForm(): Promise<string> {
    const cookie = await signIn();
    const token = (await store().load(cookie))!.data.csrf;
    await db.query(
      "UPDATE session SET idle_expires_at = now() - interval '1 second' WHERE id = $1",
      [sessionRowId(cookie)],
    );
    return token;
  }

  it('a sign-out form from before a timeout, sent with the session a sign-in in another tab started: the IdP logout, and that sign-in still completes', async () => {
    const oldToken = await timedOutForm();
    // Another tab opens the sign-in: a new session with no user, waiting at the identity provider.
    const start = await get('/auth/sign-in');
    const anon = sessionCookie(start).value;
    const before = (await store().load(anon))!;
    // A forged one from another site is still refused, whatever token it carries.
    for (const token of [oldToken, before.data.csrf]) {
      const forged = await post('/auth/sign-out', { _csrf: token }, anon, {
        origin: 'https://evil.example',
      });
      expect(forged.statusCode).toBe(403);
    }
    for (const form of [{ _csrf: oldToken }, {}] as Record<string, string>[]) {
      const res = await post('/auth/sign-out', form, anon);
      expect(res.statusCode).toBe(303); // it was a 403 "form has expired", the IdP session left alive
      const logout = new URL(String(res.headers.location));
      expect(logout.pathname).toMatch(/\/b2c_1_signupsignin\/oauth2\/v2\.0\/logout$/i);
      expect(logout.searchParams.get('client_id')).toBeTruthy();
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    // The new session and the sign-in it waits for are left as they were.
    expect((await store().load(anon))!.data).toEqual(before.data);
    const b2c = new HttpBrowser(azure.identityUrl);
    const page = expectPage(await b2c.open(String(start.headers.location)));
    const back = expectRedirect(await b2c.submit(page, ALICE));
    const done = await get(`${back.pathname}${back.search}`, anon);
    expect(done.statusCode).toBe(303);
    await expectSignedIn(sessionCookie(done).value);
  });

  it('that sign-out sent with the cookie of the session a sign-in replaced meanwhile tells the user they are signed in (was the IdP logout, then home signed in)', async () => {
    const oldToken = await timedOutForm();
    const anon = sessionCookie(await get('/auth/sign-in')).value;
    const after = await signIn(anon); // the other tab's sign-in is answered first
    expectStillSignedInPage(await post('/auth/sign-out', { _csrf: oldToken }, anon));
    await expectSignedIn(after);
  });

  it('that sign-out, loaded before the other tab signed in and finished after, tells the user too', async () => {
    const oldToken = await timedOutForm();
    const anon = sessionCookie(await get('/auth/sign-in')).value;
    const held = holdNextLoad(store(), anon);
    const signingOut = post('/auth/sign-out', { _csrf: oldToken }, anon);
    await held.loaded;
    const after = await signIn(anon);
    held.release();
    expectStillSignedInPage(await signingOut);
    await expectSignedIn(after);
  });

  it('a sign-out whose session timed out (or ended elsewhere) still signs out at the identity provider, and ends nothing else', async () => {
    const cookie = await signIn();
    const other = await signIn(); // another browser's session
    const csrf = (await store().load(cookie))!.data.csrf;
    // The idle timeout passes while the page with the sign-out form stays open.
    await db.query(
      "UPDATE session SET idle_expires_at = now() - interval '1 second' WHERE id = $1",
      [sessionRowId(cookie)],
    );
    for (const [form, jarCookie] of [
      [{ _csrf: csrf }, cookie], // the form as it was
      [{}, cookie], // no token at all
      [{ _csrf: csrf }, undefined], // the cookie is gone too (browser restarted)
    ] as const) {
      const res = await post('/auth/sign-out', form, jarCookie);
      expect(res.statusCode).toBe(303);
      const logout = new URL(String(res.headers.location));
      expect(logout.pathname).toMatch(/\/b2c_1_signupsignin\/oauth2\/v2\.0\/logout$/i);
      expect(logout.searchParams.get('post_logout_redirect_uri')).toBe(
        `${portal.config.PUBLIC_BASE_URL}/`,
      );
      expect(logout.searchParams.get('client_id')).toBeTruthy();
      // No session was written or created, and the browser's cookie (perhaps newer) is left alone.
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    await expectDead(cookie);
    await expectSignedIn(other);
    // Another site still cannot have it: a cross-site Origin is refused, session or not.
    const forged = await post('/auth/sign-out', { _csrf: csrf }, cookie, {
      origin: 'https://evil.example',
    });
    expect(forged.statusCode).toBe(403);
    expect(forged.headers.location).toBeUndefined();
  });

  it('a sign-out that loaded the session before another tab rotated it ends the new session', async () => {
    const before = await signIn();
    const csrf = (await store().load(before))!.data.csrf;
    const held = holdNextLoad(store(), before);
    const signingOut = post('/auth/sign-out', { _csrf: csrf }, before);
    await held.loaded;
    const after = await signIn(before);
    held.release();
    expect((await signingOut).statusCode).toBe(303);
    await expectDead(before);
    await expectDead(after);
  });

  it('a sign-out form loaded before another tab signed in (new cookie, old token) signs the user out', async () => {
    const before = await signIn();
    const formToken = (await store().load(before))!.data.csrf;
    // Two sign-ins in other tabs (each rotates the id); the browser now sends the newest cookie.
    const after = await signIn(await signIn(before));
    const res = await post('/auth/sign-out', { _csrf: formToken }, after);
    expect(res.statusCode).toBe(303);
    expect(String(res.headers.location)).toMatch(/\/oauth2\/v2\.0\/logout\?/);
    expect(String(res.headers['set-cookie'])).toMatch(/__Host-portal_sid=;/);
    await expectDead(after);
  });

  it('a sign-out form older than the rotation link gets a confirmation page with a fresh token, not an error', async () => {
    const before = await signIn();
    const formToken = (await store().load(before))!.data.csrf;
    const after = await signIn(before);
    await db.query('DELETE FROM session_rotation'); // the minute has passed
    const res = await post('/auth/sign-out', { _csrf: formToken }, after);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toContain('<h1>Sign out</h1>');
    expect(res.body).toContain('You are still signed in.');
    await expectSignedIn(after);
    // The page's own form carries the current token: one click signs out.
    const confirm =
      /<form method="post" action="\/auth\/sign-out" id="confirmSignOutForm">\s*<input type="hidden" name="_csrf" value="([^"]+)">/.exec(
        res.body,
      )?.[1];
    expect(confirm).toBe((await store().load(after))!.data.csrf);
    expect((await post('/auth/sign-out', { _csrf: confirm! }, after)).statusCode).toBe(303);
    await expectDead(after);
  });

  it('a forged cross-site sign-out signs no one out, whatever token it carries', async () => {
    const before = await signIn();
    const formToken = (await store().load(before))!.data.csrf;
    const after = await signIn(before);
    const evil = { origin: 'https://evil.example' };
    for (const token of [formToken, (await store().load(after))!.data.csrf]) {
      const res = await post('/auth/sign-out', { _csrf: token }, after, evil);
      expect(res.statusCode).toBe(403);
      expect(res.body).toContain('did not come from this site');
    }
    // No Origin (an old browser) and a token it cannot know: the confirmation page, nothing more.
    for (const form of [{ _csrf: 'x'.repeat(43) }, {}] as Record<string, string>[]) {
      const res = await post('/auth/sign-out', form, after);
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('You are still signed in.');
    }
    await expectSignedIn(after);
  });

  it("an anonymous session's planted token with the signed-in cookie is not accepted either", async () => {
    const planted = sessionCookie(await get('/auth/sign-in')).value;
    const plantedCsrf = (await store().load(planted))!.data.csrf;
    const after = await signIn(planted);
    const res = await post('/auth/sign-out', { _csrf: plantedCsrf }, after);
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('You are still signed in.');
    await expectSignedIn(after);
  });

  it('N requests in flight while signing out: afterwards the cookie is dead', async () => {
    const cookie = await signIn();
    const N = 10;
    const MAX_ROUNDS = 100; // per worker: keeps the test bounded whatever happens
    let signedOut = false;
    let completed = 0;
    let allStarted!: () => void;
    const running = new Promise<void>((r) => (allStarted = r));
    const worker = async (): Promise<void> => {
      for (let round = 0; round < MAX_ROUNDS && !signedOut; round++) {
        expect((await get('/auth/sign-in', cookie)).statusCode).toBe(302);
        if (++completed === N) allStarted();
      }
    };
    const workers = Array.from({ length: N }, worker);
    await running;
    await signOut(cookie);
    signedOut = true;
    await Promise.all(workers);
    await expectDead(cookie);
  });
});
