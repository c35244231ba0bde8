// The portal's HTTP behaviour without a browser: headers, cookies, state
// binding, CSRF and error pages. Real PostgreSQL and the B2C stand-in (no NATS: the portal uses none).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevAzure, type DevAzure } from '@idp/dev-azure';
import { startPostgres, type TestPostgres } from '@idp/testing';
import type { LightMyRequestResponse } from 'fastify';
import { Client } from 'pg';
import { safeReturnTo } from '../../src/auth/auth.service';
import { SessionStore } from '../../src/session/session-store';
import { B2C_PORTAL_CLIENT_ID, portalEnv } from '../support/portal-env';
import { startPortalInProcess, type InProcessPortal } from '../support/portal-app';
import { portalClient, sessionCookie } from '../support/portal-client';

let pg: TestPostgres;
let azure: DevAzure;
let dataDir: string;
let portal: InProcessPortal;
let databaseUrl: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'portal-http-'));
  [pg, azure] = await Promise.all([startPostgres(), startDevAzure({ dataDir, keyVault: false })]);
  databaseUrl = await pg.createDatabase();
  portal = await startPortalInProcess({
    ...portalEnv({ b2cHost: azure.identityUrl }),
    DATABASE_URL: databaseUrl,
  });
}, 60000);
afterAll(async () => {
  await portal?.close();
  await Promise.all([pg?.stop(), azure?.stop()]);
  rmSync(dataDir, { recursive: true, force: true });
});

const { get, post } = portalClient(() => portal);

/** Starts a sign-in; returns the session cookie and the state/nonce sent to B2C. */
async function startSignIn(cookie?: string) {
  const res = await get('/auth/sign-in', cookie);
  expect(res.statusCode).toBe(302);
  const location = new URL(String(res.headers.location));
  return {
    res,
    location,
    cookie: cookie ?? sessionCookie(res).value,
    state: location.searchParams.get('state')!,
  };
}

function expectErrorPage(res: LightMyRequestResponse, status: number): void {
  expect(res.statusCode).toBe(status);
  expect(res.headers['content-type']).toMatch(/text\/html/);
  expect(res.body).toContain(`id="correlationId">${res.headers['x-request-id']}<`);
  expect(res.body).not.toMatch(/\bat [\w.<>]+ \(|\.ts:\d+|node_modules/);
}

describe('security headers', () => {
  it('sends a strict CSP and the other helmet headers on pages', async () => {
    const res = await get('/');
    expect(res.statusCode).toBe(200);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'none'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain(`form-action 'self' ${azure.identityUrl}`);
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(res.body).toContain('<html lang="en">');
    expect(res.headers['set-cookie']).toBeUndefined(); // anonymous pages need no session
  });
});

describe('operational endpoints', () => {
  it('serves /metrics to a direct scrape only: through a proxy (X-Forwarded-For, Forwarded) it is a 404', async () => {
    const scrape = (headers: Record<string, string>) =>
      portal.fastify.inject({ method: 'GET', url: '/metrics', headers });
    const direct = await scrape({});
    expect(direct.statusCode).toBe(200);
    expect(direct.body).toContain('process_cpu_seconds_total');
    const viaProxy: Record<string, string>[] = [
      { 'x-forwarded-for': '203.0.113.7' },
      { forwarded: 'for=203.0.113.7' },
    ];
    for (const headers of viaProxy) {
      const proxied = await scrape(headers);
      expect({ headers, status: proxied.statusCode }).toEqual({ headers, status: 404 });
      expect(proxied.body).not.toContain('process_cpu_seconds_total');
    }
    expect((await get('/healthz')).statusCode).toBe(200);
  });
});

describe('framing', () => {
  it('forbids framing with X-Frame-Options: DENY on every response (matching frame-ancestors), error pages included', async () => {
    const { cookie } = await startSignIn();
    const responses = {
      page: await get('/'),
      redirect: await get('/auth/sign-in'),
      signInRequired: await get('/claims'),
      stylesheet: await get('/static/portal.css'),
      health: await get('/healthz'),
      notFound: await get('/no-such-page'),
      csrf: await post('/auth/sign-out', {}, cookie),
      tooLarge: await post('/auth/sign-out', { a: 'x'.repeat(2 * 1024 * 1024) }),
    };
    for (const [what, res] of Object.entries(responses))
      expect({ what, xfo: res.headers['x-frame-options'] }).toEqual({ what, xfo: 'DENY' });
  });
});

describe('sign-in request', () => {
  it('sends the user to the user flow with PKCE (S256), state and nonce, and sets a Secure HttpOnly SameSite=Lax cookie', async () => {
    const { res, location } = await startSignIn();
    expect(location.origin + location.pathname).toMatch(
      new RegExp(
        `^${azure.identityUrl}/contoso.onmicrosoft.com/b2c_1_signupsignin/oauth2/v2.0/authorize$`,
        'i',
      ),
    );
    const q = location.searchParams;
    expect(q.get('client_id')).toBe(B2C_PORTAL_CLIENT_ID);
    expect(q.get('response_type')).toBe('code');
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('nonce')).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(q.get('redirect_uri')).toBe('https://localhost:8443/auth/redirect');
    expect(q.get('scope')).toContain('https://contoso.onmicrosoft.com/policy-api/Accounts.Read');
    const { raw } = sessionCookie(res);
    expect(raw).toMatch(/; Secure/i);
    expect(raw).toMatch(/; HttpOnly/i);
    expect(raw).toMatch(/; SameSite=Lax/i);
    expect(raw).toMatch(/; Path=\//i);
    expect(raw).not.toMatch(/Domain=/i);
  });

  it('uses a fresh state and nonce every time', async () => {
    const a = await startSignIn();
    const b = await startSignIn(a.cookie);
    expect(b.state).not.toBe(a.state);
    expect(b.location.searchParams.get('nonce')).not.toBe(a.location.searchParams.get('nonce'));
  });

  it('only keeps local paths to return to after sign-in', () => {
    for (const evil of [
      'https://evil.example/',
      '//evil.example/x',
      '/\\evil.example',
      'javascript:alert(1)',
      '/a b',
      42,
    ])
      expect(safeReturnTo(evil)).toBeUndefined();
    expect(safeReturnTo('/policy/history?x=1')).toBe('/policy/history?x=1');
  });
});

describe('authorization response', () => {
  it('refuses a state this browser did not start (no session, other session, unknown) with an error page', async () => {
    const a = await startSignIn();
    const b = await startSignIn();
    expectErrorPage(await get(`/auth/redirect?state=${a.state}&code=abc`), 400);
    expectErrorPage(await get(`/auth/redirect?state=${a.state}&code=abc`, b.cookie), 400);
    expectErrorPage(await get(`/auth/redirect?state=nope&code=abc`, a.cookie), 400);
    expectErrorPage(await get('/auth/redirect', a.cookie), 400);
    expectErrorPage(await get('/auth/redirect?state[]=x&code[]=y', a.cookie), 400);
  });

  it('refuses a state named like an Object.prototype member (was a 500 with a code, a cancel or a reset without one)', async () => {
    const a = await startSignIn();
    for (const state of ['__proto__', 'constructor', 'toString', 'hasOwnProperty'])
      for (const rest of [
        'code=abc',
        'error=access_denied',
        `error=access_denied&error_description=${encodeURIComponent('AADB2C90118: forgot')}`,
      ]) {
        const res = await get(`/auth/redirect?state=${state}&${rest}`, a.cookie);
        expectErrorPage(res, 400);
        expect(res.body).toContain('not one this browser started');
      }
    // The real pending state is untouched by those attempts.
    const store = portal.app.get(SessionStore);
    expect(Object.keys((await store.load(a.cookie))!.data.pending)).toEqual([a.state]);
  });

  it('uses a state once: a replay is refused even after the first use failed', async () => {
    const a = await startSignIn();
    const first = await get(`/auth/redirect?state=${a.state}&code=not-a-real-code`, a.cookie);
    expectErrorPage(first, 400);
    expect(first.body).toContain('did not accept the sign-in');
    const replay = await get(`/auth/redirect?state=${a.state}&code=not-a-real-code`, a.cookie);
    expectErrorPage(replay, 400);
    expect(replay.body).toContain('already used');
  });

  it('sends "Forgot your password?" (AADB2C90118) to the password reset flow', async () => {
    const a = await startSignIn();
    const res = await get(
      `/auth/redirect?state=${a.state}&error=access_denied&error_description=${encodeURIComponent('AADB2C90118: The user has forgotten their password.')}`,
      a.cookie,
    );
    expect(res.statusCode).toBe(302);
    expect(String(res.headers.location)).toMatch(
      /\/b2c_1_passwordreset\/oauth2\/v2.0\/authorize\?/i,
    );
  });

  it('treats other error responses as a friendly error, not a 500', async () => {
    const a = await startSignIn();
    expectErrorPage(
      await get(
        `/auth/redirect?state=${a.state}&error=server_error&error_description=boom`,
        a.cookie,
      ),
      400,
    );
  });
});

describe('CSRF', () => {
  it('refuses posts without the token, with a wrong one, or from another origin', async () => {
    const { cookie } = await startSignIn();
    const before = (await portal.app.get(SessionStore).load(cookie))!.data;
    // A sign-out of this session (no user yet) without its token: no one to sign out, so only the
    // identity provider's logout, any site's link away anyway; the session and its sign-in stay.
    for (const form of [{}, { _csrf: 'x'.repeat(43) }] as Record<string, string>[]) {
      const res = await post('/auth/sign-out', form, cookie);
      expect(res.statusCode).toBe(303);
      expect(String(res.headers.location)).toMatch(/\/oauth2\/v2\.0\/logout\?/);
      expect(res.headers['set-cookie']).toBeUndefined();
      expectErrorPage(
        await post('/auth/sign-out', form, cookie, { origin: 'https://evil.example' }),
        403,
      );
    }
    expect((await portal.app.get(SessionStore).load(cookie))!.data).toEqual(before);
    expectErrorPage(
      await post(
        '/policy/beneficiaries',
        { name1: 'A', relationship1: 'spouse', share1: '100' },
        cookie,
      ),
      403,
    );
    expectErrorPage(await post('/policy/beneficiaries', { name1: 'A' }), 403);
  });

  it('accepts only urlencoded form bodies: JSON, text/plain and multipart carrying the right token are 415 and change nothing', async () => {
    const { cookie } = await startSignIn();
    const csrf = (await portal.app.get(SessionStore).load(cookie))!.data.csrf;
    const bodies: [string, string][] = [
      ['application/json', JSON.stringify({ _csrf: csrf })],
      ['text/plain', `_csrf=${csrf}`],
      [
        'multipart/form-data; boundary=x',
        `--x\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${csrf}\r\n--x--\r\n`,
      ],
      ['application/x-www-form-urlencodedx', `_csrf=${csrf}`],
    ];
    for (const [type, payload] of bodies) {
      const res = await portal.fastify.inject({
        method: 'POST',
        url: '/auth/sign-out',
        payload,
        headers: { 'content-type': type, cookie: `__Host-portal_sid=${cookie}` },
      });
      expect({ type, status: res.statusCode }).toEqual({ type, status: 415 });
      expectErrorPage(res, 415);
    }
    expect(await portal.app.get(SessionStore).load(cookie)).toBeDefined(); // not signed out
    const ok = await post('/auth/sign-out', { _csrf: csrf }, cookie, {
      'content-type': 'application/x-www-form-urlencoded; charset=UTF-8',
    });
    expect(ok.statusCode).toBe(303);
  });

  it('accepts the session token from this origin: sign-out ends the session and goes to the flow logout', async () => {
    const { cookie } = await startSignIn();
    const csrf = (await portal.app.get(SessionStore).load(cookie))!.data.csrf;
    expectErrorPage(
      await post('/auth/sign-out', { _csrf: csrf }, cookie, { origin: 'https://evil.example' }),
      403,
    );
    const res = await post('/auth/sign-out', { _csrf: csrf }, cookie, {
      origin: 'https://localhost:8443',
    });
    expect(res.statusCode).toBe(303);
    const logout = new URL(String(res.headers.location));
    expect(logout.pathname).toMatch(/\/b2c_1_signupsignin\/oauth2\/v2.0\/logout$/i);
    expect(logout.searchParams.get('post_logout_redirect_uri')).toBe('https://localhost:8443/');
    expect(logout.searchParams.get('client_id')).toBe(B2C_PORTAL_CLIENT_ID);
    expect([...logout.searchParams.keys()]).not.toContain('id_token_hint');
    expect(sessionCookie(res).raw).toMatch(/Max-Age=0/);
    expect(await portal.app.get(SessionStore).load(cookie)).toBeUndefined();
  });
});

describe('error pages', () => {
  it('renders 404 and malformed bodies as pages with the correlation id, never a stack trace', async () => {
    expectErrorPage(await get('/no-such-page'), 404);
    const bad = await portal.fastify.inject({
      method: 'POST',
      url: '/policy/beneficiaries',
      payload: '{"x":',
      headers: { 'content-type': 'application/json' },
    });
    expectErrorPage(bad, 415);
    const huge = await portal.fastify.inject({
      method: 'POST',
      url: '/auth/sign-out',
      payload: 'a=' + 'x'.repeat(2 * 1024 * 1024),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(huge.statusCode).toBe(413);
    expectErrorPage(huge, 413);
  });

  it('answers a malformed URL (bad percent-encoding) with an HTML error page too, not a JSON body', async () => {
    for (const url of ['/claims%', '/%', '/policy/%zz', '/auth/%E0%A4%A']) {
      const res = await get(url);
      expect({ url, status: res.statusCode }).toEqual({ url, status: 400 });
      expectErrorPage(res, 400);
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(String(res.headers['content-security-policy'])).toContain("default-src 'none'");
    }
  });

  it('answers a known path under another method with 405 and Allow (was the CSRF 403 or a 404), an unknown one with 404', async () => {
    const { cookie } = await startSignIn();
    const cases: [string, string, string][] = [
      ['DELETE', '/claims', 'GET, HEAD'],
      ['TRACE', '/', 'GET, HEAD'],
      ['OPTIONS', '/policy/beneficiaries', 'GET, HEAD, POST'],
      ['PUT', '/policy/beneficiaries', 'GET, HEAD, POST'],
      ['GET', '/auth/sign-out', 'POST'],
      ['POST', '/auth/redirect', 'GET, HEAD'],
    ];
    for (const [method, url, allow] of cases) {
      const res = await portal.fastify.inject({
        method: method as 'GET',
        url,
        payload: '{}',
        headers: { cookie: `__Host-portal_sid=${cookie}`, 'content-type': 'application/json' },
      });
      expect({ method, url, status: res.statusCode, allow: res.headers.allow }).toEqual({
        method,
        url,
        status: 405,
        allow,
      });
      expectErrorPage(res, 405);
    }
    const head = await portal.fastify.inject({ method: 'HEAD', url: '/auth/sign-out' });
    expect([head.statusCode, head.headers.allow]).toEqual([405, 'POST']);
    expectErrorPage(await portal.fastify.inject({ method: 'DELETE', url: '/no-such-page' }), 404);
  });

  it('answers HEAD on the sign-in redirect with 405 without using up the state', async () => {
    const { cookie, state } = await startSignIn();
    const url = `/auth/redirect?state=${state}&error=access_denied`;
    const head = await portal.fastify.inject({
      method: 'HEAD',
      url,
      headers: { cookie: `__Host-portal_sid=${cookie}` },
    });
    expect([head.statusCode, head.headers.allow]).toEqual([405, 'GET']);
    // The state is still pending: the browser's own GET is answered as the sign-in's outcome.
    const res = await get(url, cookie);
    expect(res.statusCode).toBe(303);
  });

  it('sends pages that need a user to sign-in instead of failing', async () => {
    for (const path of ['/claims', '/policy', '/policy/history', '/policy/beneficiaries']) {
      const res = await get(path);
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe(`/auth/sign-in?returnTo=${encodeURIComponent(path)}`);
    }
  });
});

describe('session store outage', () => {
  /** Runs `fn` while the session table is unreachable (renamed away), then restores it. */
  async function withoutSessionTable(fn: () => Promise<void>): Promise<void> {
    const db = new Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      await db.query('ALTER TABLE "session" RENAME TO "session_away"');
      await fn();
    } finally {
      await db.query('ALTER TABLE IF EXISTS "session_away" RENAME TO "session"');
      await db.end();
    }
  }

  it('is a 503 error page with the correlation id, never the database error, whether reading or writing the session', async () => {
    const { cookie } = await startSignIn();
    await withoutSessionTable(async () => {
      // Writing: starting a sign-in stores state, nonce and PKCE verifier.
      const write = await get('/auth/sign-in');
      expectErrorPage(write, 503);
      expect(write.headers.location).toBeUndefined();
      expect(write.headers['set-cookie']).toBeUndefined();
      // Reading: a request with a session cookie loads it first.
      const read = await get('/', cookie);
      expectErrorPage(read, 503);
      for (const res of [write, read]) {
        expect(res.body).toContain('We cannot reach your session right now');
        expect(res.body).not.toMatch(/prisma|session_away|does not exist|P20\d\d/i);
        expect(res.headers['x-frame-options']).toBe('DENY');
      }
    });
    // Back to normal once the store is: the same session still works.
    expect((await get('/', cookie)).statusCode).toBe(200);
  });
});
