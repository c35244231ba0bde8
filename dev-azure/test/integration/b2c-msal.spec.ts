// B2C user flows driven through @azure/msal-node (auth code + PKCE) and a
// fetch-based browser filling the real sign-in pages.
import { ConfidentialClientApplication, CryptoProvider } from '@azure/msal-node';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import {
  expectPage,
  expectRedirect,
  HttpBrowser,
  linkById,
  type Page,
} from '../support/http-browser';
import { REDIRECT_URI, seed, startTestAzure, type TestAzure } from '../support/harness';

const { contoso } = seed;
const API_SCOPES = [`${contoso.policyApi.uri}/Accounts.Read`, 'api://policy-api/Accounts.Write'];
let t: TestAzure;
let host: string;

beforeAll(async () => {
  t = await startTestAzure();
  host = new URL(t.azure.identityUrl).host;
});
afterAll(async () => {
  await t.stop();
});

function msalApp(flow: string): ConfidentialClientApplication {
  return new ConfidentialClientApplication({
    auth: {
      clientId: contoso.portal.clientId,
      clientSecret: contoso.portal.secret,
      authority: `${t.azure.identityUrl}/contoso.onmicrosoft.com/${flow}`,
      knownAuthorities: [host],
    },
  });
}

async function startAuth(
  app: ConfidentialClientApplication,
  extra: { prompt?: string; state?: string } = {},
) {
  const pkce = await new CryptoProvider().generatePkceCodes();
  const state = extra.state ?? `st-${Math.random().toString(36).slice(2)}`;
  const nonce = `n-${Math.random().toString(36).slice(2)}`;
  const url = await app.getAuthCodeUrl({
    scopes: API_SCOPES,
    redirectUri: REDIRECT_URI,
    codeChallenge: pkce.challenge,
    codeChallengeMethod: 'S256',
    state,
    nonce,
    prompt: extra.prompt,
  });
  return { url, pkce, state, nonce };
}

function redeem(
  app: ConfidentialClientApplication,
  auth: { pkce: { verifier: string }; nonce: string },
  back: URL,
) {
  return app.acquireTokenByCode({
    code: back.searchParams.get('code') ?? '',
    scopes: API_SCOPES,
    redirectUri: REDIRECT_URI,
    codeVerifier: auth.pkce.verifier,
    nonce: auth.nonce,
  });
}

async function signIn(
  browser: HttpBrowser,
  page: Page,
  email: string,
  password: string,
): Promise<URL> {
  return expectRedirect(await browser.submit(page, { email, password }));
}

describe('B2C sign-in with MSAL Node (authorization code + PKCE)', () => {
  it('signs a seed user in and returns B2C-shaped tokens MSAL accepts', async () => {
    const app = msalApp('B2C_1_signupsignin');
    const auth = await startAuth(app);
    expect(new URL(auth.url).pathname).toBe(
      '/contoso.onmicrosoft.com/b2c_1_signupsignin/oauth2/v2.0/authorize',
    );

    const browser = new HttpBrowser(t.azure.identityUrl);
    const page = expectPage(await browser.open(auth.url));
    expect(page.status).toBe(200);
    expect(page.html).toContain('<label for="email">');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");

    const back = await signIn(browser, page, contoso.alice.email, contoso.alice.password);
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT_URI);
    expect(back.searchParams.get('state')).toBe(auth.state);
    const code = back.searchParams.get('code');
    expect(code).toBeTruthy();

    const result = await app.acquireTokenByCode({
      code: code ?? '',
      scopes: API_SCOPES,
      redirectUri: REDIRECT_URI,
      codeVerifier: auth.pkce.verifier,
      nonce: auth.nonce,
      state: auth.state,
    });
    expect(result.account?.homeAccountId).toBe(
      `${contoso.alice.oid}-b2c_1_signupsignin.${contoso.id}`,
    );
    expect(result.account?.username ?? '').toBeDefined();

    const jwks = createRemoteJWKSet(
      new URL(
        `${t.azure.identityUrl}/contoso.onmicrosoft.com/b2c_1_signupsignin/discovery/v2.0/keys`,
      ),
    );
    const issuer = `${t.azure.identityUrl}/${contoso.id}/v2.0/`;
    const access = await jwtVerify(result.accessToken, jwks, {
      issuer,
      audience: contoso.policyApi.clientId,
    });
    expect(access.payload).toMatchObject({
      sub: contoso.alice.oid,
      oid: contoso.alice.oid,
      tfp: 'B2C_1_signupsignin',
      scp: 'Accounts.Read Accounts.Write',
      azp: contoso.portal.clientId,
      ver: '1.0',
      emails: [contoso.alice.email],
      name: 'Alice Example',
      given_name: 'Alice',
      family_name: 'Example',
      idp: 'local',
      tid: contoso.id,
    });
    expect(typeof access.payload.auth_time).toBe('number');
    const id = await jwtVerify(result.idToken, jwks, { issuer, audience: contoso.portal.clientId });
    expect(id.payload.nonce).toBe(auth.nonce);
    expect(id.payload.at_hash).toBeDefined();
    expect(id.payload.tfp).toBe('B2C_1_signupsignin');
  });

  it('keeps the session (SSO, same auth_time) and re-authenticates on prompt=login', async () => {
    const app = msalApp('B2C_1_signupsignin');
    const browser = new HttpBrowser(t.azure.identityUrl);
    const first = await startAuth(app);
    const back1 = await signIn(
      browser,
      expectPage(await browser.open(first.url)),
      contoso.bob.email,
      contoso.bob.password,
    );
    const r1 = await redeem(app, first, back1);
    const authTime1 = decodeJwt(r1.idToken).auth_time as number;

    // Second request: the SSO cookie answers without a page.
    const second = await startAuth(app);
    const back2 = expectRedirect(await browser.open(second.url));
    expect(back2.searchParams.get('state')).toBe(second.state);
    const r2 = await redeem(app, second, back2);
    expect(decodeJwt(r2.idToken).auth_time).toBe(authTime1);

    // prompt=login: the sign-in page again, and a later auth_time.
    await new Promise((r) => setTimeout(r, 1100));
    const third = await startAuth(app, { prompt: 'login' });
    const page = expectPage(await browser.open(third.url));
    expect(page.html).toContain('id="password"');
    const back3 = await signIn(browser, page, contoso.bob.email, contoso.bob.password);
    const r3 = await redeem(app, third, back3);
    expect(decodeJwt(r3.idToken).auth_time as number).toBeGreaterThan(authTime1);
  });

  it('"Forgot your password?" returns AADB2C90118 with the state, as B2C does', async () => {
    const app = msalApp('B2C_1_signupsignin');
    const auth = await startAuth(app);
    const browser = new HttpBrowser(t.azure.identityUrl);
    const page = expectPage(await browser.open(auth.url));
    const link = linkById(page.html, 'forgotPassword');
    expect(link).toBeDefined();
    const back = expectRedirect(await browser.open(new URL(link ?? '', page.url).toString()));
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('error_description')).toMatch(
      /^AADB2C90118: The user has forgotten their password\./,
    );
    expect(back.searchParams.get('state')).toBe(auth.state);
  });

  it('shows wrong credentials on the page and keeps the client out of it', async () => {
    const app = msalApp('B2C_1_signupsignin');
    const auth = await startAuth(app);
    const browser = new HttpBrowser(t.azure.identityUrl);
    const page = expectPage(await browser.open(auth.url));
    const again = expectPage(
      await browser.submit(page, { email: contoso.alice.email, password: 'wrong-password' }),
    );
    expect(again.html).toContain('Invalid username or password.');
    expect(again.html).toContain('role="alert"');
  });

  it('refuses a form post without the transaction csrf token', async () => {
    const app = msalApp('B2C_1_signupsignin');
    const auth = await startAuth(app);
    const browser = new HttpBrowser(t.azure.identityUrl);
    const page = expectPage(await browser.open(auth.url));
    const step = await browser.submit(page, {
      email: contoso.alice.email,
      password: contoso.alice.password,
      csrf_token: 'forged',
    });
    expect(expectPage(step).status).toBe(403);
  });

  it('binds refresh tokens to the flow that issued them', async () => {
    const app = msalApp('B2C_1_signupsignin');
    const auth = await startAuth(app);
    const browser = new HttpBrowser(t.azure.identityUrl);
    const back = await signIn(
      browser,
      expectPage(await browser.open(auth.url)),
      contoso.alice.email,
      contoso.alice.password,
    );
    const redeem = await tokenRequest('b2c_1_signupsignin', {
      grant_type: 'authorization_code',
      code: back.searchParams.get('code') ?? '',
      redirect_uri: REDIRECT_URI,
      code_verifier: auth.pkce.verifier,
      scope: `openid offline_access ${API_SCOPES.join(' ')}`,
    });
    expect(redeem.status).toBe(200);
    const body = (await redeem.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      token_type: 'Bearer',
      scope: expect.stringContaining('Accounts.Read'),
    });
    for (const f of [
      'access_token',
      'id_token',
      'refresh_token',
      'expires_in',
      'not_before',
      'id_token_expires_in',
      'profile_info',
      'client_info',
    ]) {
      expect(body[f]).toBeDefined();
    }
    expect(JSON.parse(Buffer.from(String(body.client_info), 'base64url').toString())).toEqual({
      uid: `${contoso.alice.oid}-b2c_1_signupsignin`,
      utid: contoso.id,
    });

    const refreshed = await tokenRequest('b2c_1_signupsignin', {
      grant_type: 'refresh_token',
      refresh_token: String(body.refresh_token),
    });
    expect(refreshed.status).toBe(200);
    const wrongFlow = await tokenRequest('b2c_1_signupsignin_mfa', {
      grant_type: 'refresh_token',
      refresh_token: String(body.refresh_token),
    });
    expect(wrongFlow.status).toBe(400);
    const err = (await wrongFlow.json()) as { error: string; error_description: string };
    expect(err.error).toBe('invalid_grant');
    expect(err.error_description).toMatch(
      /^AADB2C90088: .*Actual Value : B2C_1_signupsignin and Expected Value : B2C_1_signupsignin_mfa/,
    );

    // A code works once.
    const reuse = await tokenRequest('b2c_1_signupsignin', {
      grant_type: 'authorization_code',
      code: back.searchParams.get('code') ?? '',
      redirect_uri: REDIRECT_URI,
      code_verifier: auth.pkce.verifier,
    });
    expect(reuse.status).toBe(400);
    expect(((await reuse.json()) as { error_description: string }).error_description).toMatch(
      /^AADSTS54005:/,
    );
  });

  it('checks the PKCE verifier', async () => {
    const app = msalApp('B2C_1_signupsignin');
    const auth = await startAuth(app);
    const browser = new HttpBrowser(t.azure.identityUrl);
    const back = await signIn(
      browser,
      expectPage(await browser.open(auth.url)),
      contoso.alice.email,
      contoso.alice.password,
    );
    const res = await tokenRequest('b2c_1_signupsignin', {
      grant_type: 'authorization_code',
      code: back.searchParams.get('code') ?? '',
      redirect_uri: REDIRECT_URI,
      code_verifier: 'x'.repeat(43),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error_description: string }).error_description).toMatch(
      /^AADB2C90183:/,
    );
  });

  it('delivers the response with response_mode=form_post', async () => {
    const app = msalApp('B2C_1_signupsignin');
    const auth = await startAuth(app);
    const url = new URL(auth.url);
    url.searchParams.set('response_mode', 'form_post');
    const browser = new HttpBrowser(t.azure.identityUrl);
    const page = expectPage(await browser.open(url.toString()));
    const post = expectPage(
      await browser.submit(page, { email: contoso.alice.email, password: contoso.alice.password }),
    );
    expect(post.html).toContain(`action="${REDIRECT_URI}"`);
    expect(post.html).toMatch(/name="code" value="[^"]+"/);
    expect(post.html).toContain(`name="state" value="${auth.state}"`);
    expect(post.headers.get('content-security-policy')).toContain('form-action');
  });

  it('delivers code id_token in the fragment by default, never in the query string', async () => {
    const app = msalApp('B2C_1_signupsignin');
    const auth = await startAuth(app);
    const url = new URL(auth.url);
    url.searchParams.set('response_type', 'code id_token');
    url.searchParams.delete('response_mode'); // MSAL asks for query, which a token may not use
    const browser = new HttpBrowser(t.azure.identityUrl);
    const back = await signIn(
      browser,
      expectPage(await browser.open(url.toString())),
      contoso.alice.email,
      contoso.alice.password,
    );
    expect(`${back.origin}${back.pathname}${back.search}`).toBe(REDIRECT_URI);
    const fragment = new URLSearchParams(back.hash.slice(1));
    expect(fragment.get('code')).toBeTruthy();
    expect(fragment.get('state')).toBe(auth.state);
    expect(decodeJwt(fragment.get('id_token') ?? '')).toMatchObject({
      nonce: auth.nonce,
      aud: contoso.portal.clientId,
    });
  });

  it('ends the sign-in after five wrong authenticator codes (AADB2C90151), so TOTP cannot be brute-forced', async () => {
    const app = msalApp('B2C_1_signupsignin_mfa');
    const auth = await startAuth(app);
    const browser = new HttpBrowser(t.azure.identityUrl);
    let page = expectPage(
      await browser.submit(expectPage(await browser.open(auth.url)), {
        email: contoso.bob.email,
        password: contoso.bob.password,
      }),
    );
    expect(page.html).toContain('id="totpCode"');
    for (let i = 1; i < 5; i++) {
      page = expectPage(await browser.submit(page, { totpCode: '000000' }));
      expect(page.html).toContain('Wrong code entered');
    }
    const back = expectRedirect(await browser.submit(page, { totpCode: '000000' }));
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('error_description')).toMatch(/^AADB2C90151: /);
    expect(back.searchParams.get('state')).toBe(auth.state);
    // The transaction is over: a further guess on the same page gets no code.
    const after = expectPage(await browser.submit(page, { totpCode: '123456' }));
    expect(after.status).toBe(400);
  });

  it('creates one account when two sign-ups for the same address race', async () => {
    const email = `racer-${Date.now()}@contoso.example`;
    const signUpPage = async () => {
      const browser = new HttpBrowser(t.azure.identityUrl);
      const auth = await startAuth(msalApp('B2C_1_signupsignin'));
      const signIn = expectPage(await browser.open(auth.url));
      const link = linkById(signIn.html, 'createAccount');
      if (!link) throw new Error('no sign-up link');
      return {
        browser,
        page: expectPage(await browser.open(new URL(link, signIn.url).toString())),
      };
    };
    const [a, b] = await Promise.all([signUpPage(), signUpPage()]);
    const details = { email, givenName: 'Race', surname: 'Twice', displayName: 'Race Twice' };
    const steps = await Promise.all(
      [a, b].map(({ browser, page }, i) =>
        browser.submit(page, {
          ...details,
          newPassword: `Racer-Passw0rd-${i}!`,
          reenterPassword: `Racer-Passw0rd-${i}!`,
        }),
      ),
    );
    const signedUp = steps.filter((s) => 'redirect' in s);
    const refused = steps.filter((s) => 'page' in s);
    expect(signedUp).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(expectPage(refused[0]!).html).toContain('A user with the specified ID already exists.');
  });

  it("refuses control characters in a sign-up's names or email, and creates no account", async () => {
    const browser = new HttpBrowser(t.azure.identityUrl);
    const auth = await startAuth(msalApp('B2C_1_signupsignin'));
    const signIn = expectPage(await browser.open(auth.url));
    const link = linkById(signIn.html, 'createAccount');
    if (!link) throw new Error('no sign-up link');
    const page = expectPage(await browser.open(new URL(link, signIn.url).toString()));
    const details = {
      email: `ctl-${Date.now()}@contoso.example`,
      givenName: 'Ctl',
      surname: 'Chars',
      displayName: 'Ctl Chars',
      newPassword: 'Ctl-Passw0rd-1!',
      reenterPassword: 'Ctl-Passw0rd-1!',
    };
    for (const [change, message] of [
      [{ givenName: 'Ctl\u0000' }, 'Names cannot contain control characters.'],
      [{ displayName: 'Ctl\u001b[31mChars' }, 'Names cannot contain control characters.'],
      [{ email: `ctl\u0000${details.email}` }, 'Please enter a valid email address.'],
    ] as const) {
      const step = expectPage(await browser.submit(page, { ...details, ...change }));
      expect({ change, status: step.status, shown: step.html.includes(message) }).toEqual({
        change,
        status: 200,
        shown: true,
      });
    }
    expect(t.azure.identity.findUser(details.email, { tenant: 'contoso' })).toBeUndefined();
  });

  it('serves metadata for lower-cased flow names and for ?p=', async () => {
    const lower = await fetch(
      `${t.azure.identityUrl}/contoso.onmicrosoft.com/b2c_1_signupsignin_mfa/v2.0/.well-known/openid-configuration`,
    );
    expect(lower.status).toBe(200);
    const meta = (await lower.json()) as Record<string, string>;
    expect(meta.issuer).toBe(`${t.azure.identityUrl}/${contoso.id}/v2.0/`);
    expect(meta.authorization_endpoint).toBe(
      `${t.azure.identityUrl}/contoso.onmicrosoft.com/b2c_1_signupsignin_mfa/oauth2/v2.0/authorize`,
    );
    const p = await fetch(
      `${t.azure.identityUrl}/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration?p=B2C_1_signupsignin`,
    );
    expect(p.status).toBe(200);
    expect(((await p.json()) as Record<string, string>).token_endpoint).toContain(
      '?p=b2c_1_signupsignin',
    );
    const missing = await fetch(
      `${t.azure.identityUrl}/contoso.onmicrosoft.com/b2c_1_nope/v2.0/.well-known/openid-configuration`,
    );
    expect(missing.status).toBe(404);
    // The ?p= form of jwks_uri knows its flows too.
    const keys = await fetch(
      `${t.azure.identityUrl}/contoso.onmicrosoft.com/discovery/v2.0/keys?p=b2c_1_signupsignin`,
    );
    expect(keys.status).toBe(200);
    const unknownKeys = await fetch(
      `${t.azure.identityUrl}/contoso.onmicrosoft.com/discovery/v2.0/keys?p=b2c_1_nope`,
    );
    expect(unknownKeys.status).toBe(404);
    expect(((await unknownKeys.json()) as { error_description: string }).error_description).toMatch(
      /^The user flow 'b2c_1_nope' does not exist/,
    );
  });

  it('has no tenant-wide metadata or keys at the B2C domain without a user flow (404, as b2clogin.com); the tenant id keeps its Entra face', async () => {
    for (const path of [
      '/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration',
      '/contoso/v2.0/.well-known/openid-configuration',
      '/contoso.onmicrosoft.com/discovery/v2.0/keys',
    ]) {
      const res = await fetch(`${t.azure.identityUrl}${path}`);
      expect(`${path} ${res.status}`).toBe(`${path} 404`);
      const body = (await res.json()) as { error: string; error_description: string };
      expect(body.error).toBe('invalid_request');
      expect(body.error_description).toMatch(/user flow \(policy\)/);
    }
    // login.microsoftonline.com/{B2C tenant id}: Entra metadata for app-only tokens.
    const entra = await fetch(
      `${t.azure.identityUrl}/${contoso.id}/v2.0/.well-known/openid-configuration`,
    );
    expect(entra.status).toBe(200);
    expect(((await entra.json()) as Record<string, string>).token_endpoint).toBe(
      `${t.azure.identityUrl}/${contoso.id}/oauth2/v2.0/token`,
    );
  });

  it('signs out: checks id_token_hint and post_logout_redirect_uri, ends SSO', async () => {
    const app = msalApp('B2C_1_signupsignin');
    const browser = new HttpBrowser(t.azure.identityUrl);
    const auth = await startAuth(app);
    const back = await signIn(
      browser,
      expectPage(await browser.open(auth.url)),
      contoso.alice.email,
      contoso.alice.password,
    );
    const result = await redeem(app, auth, back);
    const logoutBase = `${t.azure.identityUrl}/contoso.onmicrosoft.com/b2c_1_signupsignin/oauth2/v2.0/logout`;

    const bad = await browser.open(
      `${logoutBase}?${new URLSearchParams({ id_token_hint: result.idToken, post_logout_redirect_uri: 'https://evil.example/' })}`,
    );
    expect(expectPage(bad).status).toBe(400);

    const target = 'https://localhost:8443/';
    const ok = expectRedirect(
      await browser.open(
        `${logoutBase}?${new URLSearchParams({ id_token_hint: result.idToken, post_logout_redirect_uri: target, state: 'bye' })}`,
      ),
    );
    expect(ok.toString()).toBe(`${target}?state=bye`);

    // No SSO any more: the sign-in page is shown.
    const again = await startAuth(app);
    expect(expectPage(await browser.open(again.url)).html).toContain('id="password"');
  });

  it('edits the profile and returns AADB2C90091 on cancel', async () => {
    const browser = new HttpBrowser(t.azure.identityUrl);
    const app = msalApp('B2C_1_profileedit');
    const auth = await startAuth(app);
    const signInPage = expectPage(await browser.open(auth.url));
    const profile = expectPage(
      await browser.submit(signInPage, {
        email: contoso.bob.email,
        password: contoso.bob.password,
      }),
    );
    expect(profile.html).toContain('id="givenName"');
    const back = expectRedirect(
      await browser.submit(profile, {
        givenName: 'Robert',
        surname: 'Sample',
        displayName: 'Robert Sample',
        action: 'continue',
      }),
    );
    const result = await redeem(app, auth, back);
    expect(decodeJwt(result.idToken)).toMatchObject({
      given_name: 'Robert',
      name: 'Robert Sample',
      tfp: 'B2C_1_profileedit',
    });

    const second = await startAuth(app);
    const page = expectPage(await browser.open(second.url)); // SSO: straight to the profile page
    expect(page.html).toContain('id="givenName"');
    const cancelled = expectRedirect(await browser.submit(page, { action: 'cancel' }));
    expect(cancelled.searchParams.get('error')).toBe('access_denied');
    expect(cancelled.searchParams.get('error_description')).toMatch(/^AADB2C90091:/);
    expect(cancelled.searchParams.get('state')).toBe(second.state);
  });
});

async function tokenRequest(flow: string, params: Record<string, string>): Promise<Response> {
  return fetch(`${t.azure.identityUrl}/contoso.onmicrosoft.com/${flow}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: contoso.portal.clientId,
      client_secret: contoso.portal.secret,
      ...params,
    }).toString(),
  });
}
