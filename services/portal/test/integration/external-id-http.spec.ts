// External ID without a browser: the portal against the contosoext stand-in and a
// recording policy API that answers writes without authentication context c1 with
// policy-api's two challenges (Microsoft's claims challenge, then RFC 9470).
// Nothing is written without the step-up token; that token serves one write only.
import {
  expectPage,
  expectRedirect,
  HttpBrowser,
  textById,
} from '../../../../dev-azure/test/support/http-browser';
import { startPortalInProcess } from '../support/portal-app';
import { cookieJarClient } from '../support/portal-client';
import { usePortalStack } from '../support/portal-stack';
import { EXTERNAL_ID, externalIdPortalEnv, portalEnv } from '../support/portal-env';
import { startRecordingApi } from '../support/recording-api';

const ALICE = {
  email: 'alice@contoso.example',
  password: 'Alice-ext-Passw0rd!',
  oid: '8ba502aa-af7e-420f-bb1a-6adf2ed270dc',
};
const C1 = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}';

/** A policy API stand-in that records each call and wants acrs c1 for writes. */
const startApi = () =>
  startRecordingApi({
    policy: { policyNumber: 'PN0000000002' },
    record: (claims) => ({ acrs: claims.acrs, oid: claims.oid }),
    gate: (claims) =>
      Array.isArray(claims.acrs) && claims.acrs.includes('c1')
        ? undefined
        : {
            wwwAuthenticate: [
              `Bearer realm="${EXTERNAL_ID.tenantId}", error="insufficient_claims", claims="${Buffer.from(C1).toString('base64')}"`,
              'Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="c1", max_age=600',
            ],
          },
  });

const stack = usePortalStack({
  startApi,
  env: (identityUrl, apiUrl) => externalIdPortalEnv({ identityUrl, policyApiUrl: apiUrl }),
});

const jar = cookieJarClient(() => stack.portal);
const portalGet = jar.get;
const portalPost = jar.post;
const local = (u: URL) => `${u.pathname}${u.search}`;
const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
const authorizePath = `/${EXTERNAL_ID.tenantId}/oauth2/v2.0/authorize`;

describe('portal on External ID', () => {
  let idp: HttpBrowser;
  const rows = { etag: '"v1"', name1: 'Sam', relationship1: 'spouse', share1: '100' };

  it('signs in at the tenant authority with PKCE and the cp1 capability', async () => {
    idp = new HttpBrowser(stack.azure.identityUrl);
    const start = await portalGet('/auth/sign-in?returnTo=/policy/beneficiaries');
    const to = new URL(String(start.headers.location));
    expect(`${to.origin}${to.pathname}`).toBe(`${stack.azure.identityUrl}${authorizePath}`);
    expect(to.searchParams.get('client_id')).toBe(EXTERNAL_ID.clientId);
    expect(to.searchParams.get('code_challenge_method')).toBe('S256');
    expect(to.searchParams.get('scope')?.split(' ')).toEqual(
      expect.arrayContaining([
        'openid',
        'offline_access',
        `${EXTERNAL_ID.apiAppIdUri}/Accounts.Read`,
      ]),
    );
    expect(JSON.parse(to.searchParams.get('claims') ?? '{}')).toMatchObject({
      access_token: { xms_cc: { values: ['cp1'] } },
    });
    expect(to.searchParams.get('p')).toBeNull(); // no user flow in the request
    const page = expectPage(await idp.open(to.toString()));
    const back = expectRedirect(
      await idp.submit(page, { email: ALICE.email, password: ALICE.password }),
    );
    const res = await portalGet(local(back));
    expect(res.headers.location).toBe('/policy/beneficiaries');
    const claims = await portalGet('/claims');
    expect(claims.body).toContain(`data-claim="oid">${ALICE.oid}<`);
    expect(claims.body).not.toContain('data-claim="tfp"');
  });

  it('answers the claims challenge: rows kept, re-authorization with claims + prompt=login + max_age, nothing written', async () => {
    const form = await portalGet('/policy/beneficiaries');
    const res = await portalPost('/policy/beneficiaries', { _csrf: csrfOf(form.body), ...rows });
    expect(res.statusCode).toBe(303);
    const to = new URL(String(res.headers.location));
    expect(to.pathname).toBe(authorizePath);
    expect(JSON.parse(to.searchParams.get('claims') ?? '{}')).toMatchObject({
      access_token: { acrs: { essential: true, value: 'c1' }, xms_cc: { values: ['cp1'] } },
    });
    expect(to.searchParams.get('prompt')).toBe('login');
    expect(to.searchParams.get('max_age')).toBe('600');
    expect(to.searchParams.get('login_hint')).toBe(ALICE.email);
    const puts = stack.api.calls.filter((c) => c.method === 'PUT');
    expect(puts).toHaveLength(1);
    expect(puts[0]?.acrs).toBeUndefined();

    // Cancelling the one-time passcode: back to the form with the rows, still nothing written.
    const signIn = expectPage(await idp.open(to.toString()));
    const otp = expectPage(
      await idp.submit(signIn, { email: ALICE.email, password: ALICE.password }),
    );
    expect(textById(otp.html, 'codeSentTo')).toBe(ALICE.email);
    const cancelled = await portalGet(
      local(expectRedirect(await idp.submit(otp, { action: 'cancel' }))),
    );
    expect(cancelled.headers.location).toBe('/policy/beneficiaries');
    const again = await portalGet('/policy/beneficiaries');
    expect(again.body).toContain('not saved');
    expect(again.body).toContain('value="Sam"');
    expect(stack.api.calls.filter((c) => c.method === 'PUT')).toHaveLength(1);
  });

  it('retries the change once with the step-up token (acrs c1) and never caches that token', async () => {
    const form = await portalGet('/policy/beneficiaries');
    const to = String(
      (await portalPost('/policy/beneficiaries', { _csrf: csrfOf(form.body), ...rows })).headers
        .location,
    );
    const signIn = expectPage(await idp.open(to));
    const otp = expectPage(
      await idp.submit(signIn, { email: ALICE.email, password: ALICE.password }),
    );
    const code =
      stack.azure.identity.lastMailedCode(ALICE.email, { tenant: 'contosoext', purpose: 'mfa' }) ??
      '';
    const back = expectRedirect(await idp.submit(otp, { verificationCode: code }));
    const done = await portalGet(local(back));
    expect(done.headers.location).toBe('/policy');
    const puts = stack.api.calls.filter((c) => c.method === 'PUT');
    expect(puts).toHaveLength(3); // everyday, everyday (after cancel), step-up
    expect(puts[2]).toMatchObject({
      acrs: ['c1'],
      oid: ALICE.oid,
      body: { beneficiaries: [{ name: 'Sam', relationship: 'spouse', sharePercent: 100 }] },
    });

    // Replaying the step-up response: its state was used, so nothing is done (the signed-in
    // user is taken home) and nothing is written again.
    const replay = await portalGet(local(back));
    expect([replay.statusCode, replay.headers.location]).toEqual([303, '/']);
    expect(stack.api.calls.filter((c) => c.method === 'PUT')).toHaveLength(3);
    // Later calls use the everyday token again (no acrs): the step-up token was not kept.
    await portalGet('/policy');
    expect(stack.api.calls.at(-1)).toMatchObject({ method: 'GET', acrs: undefined });
  });

  it('two saves that both went to step-up (two tabs, a double submit): each verification writes the rows typed for it', async () => {
    /** Posts a change from a freshly read form; returns the step-up authorize URL it led to. */
    const save = async (name: string) => {
      const form = await portalGet('/policy/beneficiaries');
      const etag = /name="etag" value="([^"]*)"/.exec(form.body)?.[1]?.replace(/&quot;/g, '"');
      const res = await portalPost('/policy/beneficiaries', {
        _csrf: csrfOf(form.body),
        etag: etag ?? '',
        name1: name,
        relationship1: 'child',
        share1: '100',
      });
      expect(new URL(String(res.headers.location)).pathname).toBe(authorizePath);
      return String(res.headers.location);
    };
    /** Signs in again with the mailed one-time passcode; returns the portal's redirect after it. */
    const verify = async (to: string) => {
      const signIn = expectPage(await idp.open(to));
      const otp = expectPage(
        await idp.submit(signIn, { email: ALICE.email, password: ALICE.password }),
      );
      const code =
        stack.azure.identity.lastMailedCode(ALICE.email, {
          tenant: 'contosoext',
          purpose: 'mfa',
        }) ?? '';
      return portalGet(local(expectRedirect(await idp.submit(otp, { verificationCode: code }))));
    };
    const first = await save('First Tab');
    const second = await save('Second Tab');
    const before = stack.api.calls.filter((c) => c.method === 'PUT').length;
    expect((await verify(first)).headers.location).toBe('/policy');
    expect((await verify(second)).headers.location).toBe('/policy');
    const written = stack.api.calls
      .filter((c) => c.method === 'PUT')
      .slice(before)
      .map((c) => (c.body as { beneficiaries: { name: string }[] }).beneficiaries[0]?.name);
    // The first verification wrote the second tab's rows before: one slot for the whole session.
    expect(written).toEqual(['First Tab', 'Second Tab']);
  });

  it('starts Reset Password as a fresh sign-in (reset is part of it on External ID)', async () => {
    const res = await portalGet('/auth/reset-password');
    const to = new URL(String(res.headers.location));
    expect(to.pathname).toBe(authorizePath);
    expect(to.searchParams.get('prompt')).toBe('login');
    expect(to.searchParams.get('login_hint')).toBe(ALICE.email);
    expect(expectPage(await idp.open(to.toString())).html).toContain('id="forgotPassword"');
  });

  it('Reset Password when signed out: the sign-in it ends in signs the user in (session, claims, API tokens)', async () => {
    // A browser with no portal session and no IdP session.
    const anon = cookieJarClient(() => stack.portal);
    const browser = new HttpBrowser(stack.azure.identityUrl);
    const to = new URL(String((await anon.get('/auth/reset-password')).headers.location));
    expect(to.pathname).toBe(authorizePath);
    expect(to.searchParams.get('prompt')).toBe('login');
    expect(to.searchParams.get('scope')?.split(' ')).toEqual(
      expect.arrayContaining(['offline_access', `${EXTERNAL_ID.apiAppIdUri}/Accounts.Read`]),
    );
    const page = expectPage(await browser.open(to.toString()));
    const back = expectRedirect(
      await browser.submit(page, { email: ALICE.email, password: ALICE.password }),
    );
    expect((await anon.get(local(back))).headers.location).toBe('/');
    const home = await anon.get('/');
    expect(home.body).toContain('You are signed in. If you chose a new password');
    // It said so, and it is so: before, /claims sent this browser to sign in again.
    const claims = await anon.get('/claims');
    expect(claims.statusCode).toBe(200);
    expect(claims.body).toContain(`data-claim="oid">${ALICE.oid}<`);
    const calls = stack.api.calls.length;
    expect((await anon.get('/policy')).statusCode).toBe(200);
    expect(stack.api.calls.slice(calls)).toEqual([
      expect.objectContaining({ method: 'GET', oid: ALICE.oid }),
    ]);
  });

  it('edits the profile through Graph /me behind the CSRF token, then shows the renewed claims', async () => {
    expect((await portalGet('/auth/edit-profile')).headers.location).toBe('/profile');
    const form = await portalGet('/profile');
    expect(form.statusCode).toBe(200);
    expect(form.body).toMatch(/id="givenName"[^>]*value="Alice"/);
    const values = { givenName: 'Alicia', surname: 'Ext', displayName: 'Alicia Ext' };
    expect((await portalPost('/profile', { ...values, _csrf: 'forged' })).statusCode).toBe(403);
    const invalid = await portalPost('/profile', {
      ...values,
      givenName: '',
      _csrf: csrfOf(form.body),
    });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.body).toContain('Given name: enter a value.');
    // Bidi overrides, zero-width and C1 characters would be stored and shown reordered or hidden.
    for (const givenName of ['Alice\u202Egnp.exe', 'Ali\u200Bce', 'Alice\u0085', 'A\u2066lice']) {
      const refused = await portalPost('/profile', {
        ...values,
        givenName,
        _csrf: csrfOf(form.body),
      });
      expect([givenName, refused.statusCode]).toEqual([givenName, 400]);
      expect(refused.body).toContain('Given name: contains characters that are not allowed.');
    }
    expect(stack.azure.identity.findUser(ALICE.email, { tenant: 'contosoext' })?.givenName).toBe(
      'Alice',
    );
    const saved = await portalPost('/profile', { ...values, _csrf: csrfOf(form.body) });
    expect(saved.headers.location).toBe('/claims');
    const claims = await portalGet('/claims');
    expect(claims.body).toContain('Your profile was updated.');
    expect(claims.body).toContain('data-claim="name">Alicia Ext<');
    expect(claims.body).toContain('data-claim="given_name">Alicia<');
  });

  it('counts a profile name in characters (code points of its NFC form, as sent to Graph), not UTF-16 units', async () => {
    const form = await portalGet('/profile');
    const values = { surname: 'Ext', displayName: 'Alicia Ext', _csrf: csrfOf(form.body) };
    // 65 characters: refused, and said in characters.
    const long = await portalPost('/profile', { ...values, givenName: '\u00e9'.repeat(65) });
    expect(long.statusCode).toBe(400);
    expect(long.body).toContain('Given name: at most 64 characters.');
    // 64 characters typed decomposed (e + combining acute: 128 UTF-16 units) were refused as over
    // 64; they are 64 characters, saved as the 64 composed ones.
    const saved = await portalPost('/profile', { ...values, givenName: 'e\u0301'.repeat(64) });
    expect(saved.statusCode).toBe(303);
    expect(stack.azure.identity.findUser(ALICE.email, { tenant: 'contosoext' })?.givenName).toBe(
      '\u00e9'.repeat(64),
    );
    const back = await portalPost('/profile', { ...values, givenName: 'Alicia' });
    expect(back.statusCode).toBe(303);
  });

  it('an error response to the step-up (not a cancel) brings the rows back with the reason, nothing written, nothing reflected', async () => {
    const form = await portalGet('/policy/beneficiaries');
    const res = await portalPost('/policy/beneficiaries', {
      _csrf: csrfOf(form.body),
      ...rows,
      name1: 'Kept Row',
    });
    const state = new URL(String(res.headers.location)).searchParams.get('state') ?? '';
    const puts = stack.api.calls.filter((c) => c.method === 'PUT').length;
    const description = encodeURIComponent('AADSTS90033: <script>alert(1)</script> busy');
    const back = await portalGet(
      `/auth/redirect?state=${state}&error=temporarily_unavailable&error_description=${description}&suberror=x`,
    );
    // Before: a 400 error page, and the typed rows were gone.
    expect(back.statusCode).toBe(303);
    expect(back.headers.location).toBe('/policy/beneficiaries');
    const again = await portalGet('/policy/beneficiaries');
    expect(again.body).toContain('value="Kept Row"');
    expect(again.body).toContain('Verification could not be completed');
    expect(again.body).not.toContain('AADSTS90033');
    expect(again.body).not.toContain('<script>alert');
    expect(stack.api.calls.filter((c) => c.method === 'PUT')).toHaveLength(puts);
    // The state was used: the same response again does nothing (the signed-in user goes home).
    const replay = await portalGet(`/auth/redirect?state=${state}&error=server_error`);
    expect([replay.statusCode, replay.headers.location]).toEqual([303, '/']);
    expect(stack.api.calls.filter((c) => c.method === 'PUT')).toHaveLength(puts);
  });

  it('has no /profile form on B2C', async () => {
    const b2c = await startPortalInProcess({
      ...portalEnv({ b2cHost: stack.azure.identityUrl }),
      DATABASE_URL: await stack.pg.createDatabase(),
    });
    try {
      expect((await b2c.fastify.inject({ method: 'GET', url: '/profile' })).statusCode).toBe(404);
    } finally {
      await b2c.close();
    }
  });
});
