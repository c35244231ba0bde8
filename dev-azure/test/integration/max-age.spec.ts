// max_age on /authorize (OpenID Connect Core 3.1.2.1): a session whose authentication is older
// than max_age seconds is not reused (the user signs in again; prompt=none gets login_required),
// a younger one is; and the ID token then carries auth_time, even where the app's optional
// claims do not ask for it (External ID).
import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { expectPage, expectRedirect, HttpBrowser, type Page } from '../support/http-browser';
import { REDIRECT_URI, seed, startTestAzure, type TestAzure } from '../support/harness';

const { contoso, contosoext } = seed;
let t: TestAzure;

beforeAll(async () => {
  t = await startTestAzure({
    // The external portal app without the auth_time optional claim: max_age alone must add it.
    adjust: (cfg) => {
      const app = cfg.tenants
        .find((x) => x.name === 'contosoext')!
        .apps?.find((a) => a.clientId === contosoext.portal.clientId);
      if (!app?.optionalClaims) throw new Error('seed changed: contosoext portal app not found');
      app.optionalClaims.idToken = ['email'];
    },
  });
});
afterAll(async () => {
  await t.stop();
});

interface Case {
  name: string;
  authorize: () => string;
  clientId: string;
  user: { email: string; password: string };
}

const cases: Case[] = [
  {
    name: 'B2C user flow',
    authorize: () =>
      `${t.azure.identityUrl}/contoso.onmicrosoft.com/B2C_1_signupsignin/oauth2/v2.0/authorize`,
    clientId: contoso.portal.clientId,
    user: contoso.bob,
  },
  {
    name: 'External ID tenant',
    authorize: () => `${t.azure.identityUrl}/${contosoext.id}/oauth2/v2.0/authorize`,
    clientId: contosoext.portal.clientId,
    user: contosoext.carol,
  },
];

function url(c: Case, extra: Record<string, string> = {}): string {
  const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest();
  return `${c.authorize()}?${new URLSearchParams({
    client_id: c.clientId,
    redirect_uri: REDIRECT_URI,
    response_type: 'code id_token',
    scope: 'openid offline_access',
    code_challenge: challenge.toString('base64url'),
    code_challenge_method: 'S256',
    nonce: randomBytes(8).toString('hex'),
    state: 'st',
    ...extra,
  })}`;
}

/** The fragment the redirect carries (response_type with id_token answers by fragment). */
function answer(back: URL): URLSearchParams {
  return new URLSearchParams(back.hash.slice(1));
}

function authTime(back: URL): unknown {
  const idToken = answer(back).get('id_token');
  if (!idToken) throw new Error(`no id_token in ${back.hash.slice(0, 200)}`);
  return decodeJwt(idToken).auth_time;
}

const signIn = async (browser: HttpBrowser, page: Page, c: Case) =>
  expectRedirect(await browser.submit(page, { email: c.user.email, password: c.user.password }));

describe.each(cases)('max_age ($name)', (c) => {
  it('reuses a session younger than max_age, signs in again when it is older, with a later auth_time', async () => {
    const browser = new HttpBrowser(t.azure.identityUrl);
    const first = await signIn(
      browser,
      expectPage(await browser.open(url(c, { max_age: '3600' }))),
      c,
    );
    const authTime1 = authTime(first) as number;
    expect(typeof authTime1).toBe('number');

    const young = expectRedirect(await browser.open(url(c, { max_age: '3600' })));
    expect(authTime(young)).toBe(authTime1);

    await new Promise((r) => setTimeout(r, 1100));
    const silent = expectRedirect(await browser.open(url(c, { max_age: '0', prompt: 'none' })));
    expect(answer(silent).get('error')).toBe('login_required');
    expect(answer(silent).get('state')).toBe('st');

    const page = expectPage(await browser.open(url(c, { max_age: '0' })));
    expect(page.html).toContain('id="password"');
    const again = await signIn(browser, page, c);
    expect(authTime(again) as number).toBeGreaterThan(authTime1);
  });

  it('refuses a max_age that is not a non-negative integer, back at the redirect URI', async () => {
    const browser = new HttpBrowser(t.azure.identityUrl);
    for (const bad of ['-1', 'soon', '1.5', '99999999999']) {
      const back = expectRedirect(await browser.open(url(c, { max_age: bad })));
      expect(answer(back).get('error')).toBe('invalid_request');
      expect(answer(back).get('error_description')).toContain('max_age');
    }
  });
});

it('External ID: the ID token carries auth_time when max_age was asked for, though the app does not ask for the claim', async () => {
  const c = cases[1]!;
  const browser = new HttpBrowser(t.azure.identityUrl);
  const plain = await signIn(browser, expectPage(await browser.open(url(c))), c);
  expect(authTime(plain)).toBeUndefined();
  const withMaxAge = expectRedirect(await browser.open(url(c, { max_age: '600' })));
  expect(typeof authTime(withMaxAge)).toBe('number');
});
