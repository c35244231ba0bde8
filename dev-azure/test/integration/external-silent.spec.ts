// External ID silent requests (prompt=none) over HTTP: with no session the answer is
// login_required (AADSTS50058); with a signed-in user who still owes a second factor for the
// requested authentication context it is interaction_required (AADSTS50076), as Entra answers.
import { createHash, randomBytes } from 'node:crypto';
import { expectPage, expectRedirect, HttpBrowser } from '../support/http-browser';
import { REDIRECT_URI, seed, startTestAzure, type TestAzure } from '../support/harness';

const { contosoext } = seed;
const C1 = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}';
let t: TestAzure;

beforeAll(async () => {
  t = await startTestAzure();
});
afterAll(async () => {
  await t.stop();
});

function authorizeUrl(extra: Record<string, string> = {}): string {
  const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest();
  return `${t.azure.identityUrl}/${contosoext.id}/oauth2/v2.0/authorize?${new URLSearchParams({
    client_id: contosoext.portal.clientId,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: 'openid offline_access',
    code_challenge: challenge.toString('base64url'),
    code_challenge_method: 'S256',
    state: 'silent',
    ...extra,
  })}`;
}

describe('External ID prompt=none', () => {
  it('login_required without a session, a code with one, interaction_required when MFA is owed', async () => {
    const browser = new HttpBrowser(t.azure.identityUrl);
    const anonymous = expectRedirect(await browser.open(authorizeUrl({ prompt: 'none' })));
    expect(anonymous.searchParams.get('error')).toBe('login_required');
    expect(anonymous.searchParams.get('error_description')).toMatch(/^AADSTS50058: /);

    const signedIn = expectRedirect(
      await browser.submit(expectPage(await browser.open(authorizeUrl())), {
        email: contosoext.carol.email,
        password: contosoext.carol.password,
      }),
    );
    expect(signedIn.searchParams.get('code')).toBeTruthy();

    const silent = expectRedirect(await browser.open(authorizeUrl({ prompt: 'none' })));
    expect(silent.searchParams.get('code')).toBeTruthy();
    // select_account interrupts single sign-on: the account choice, not a code.
    expect(
      expectPage(await browser.open(authorizeUrl({ prompt: 'select_account' }))).url,
    ).toContain('/ciam/signin');
    expect(
      expectRedirect(await browser.open(authorizeUrl())).searchParams.get('code'),
    ).toBeTruthy();

    // c1 needs a second factor this session never did: the user must interact, but is signed in.
    const stepUp = expectRedirect(await browser.open(authorizeUrl({ prompt: 'none', claims: C1 })));
    expect(stepUp.searchParams.get('error')).toBe('interaction_required');
    expect(stepUp.searchParams.get('error_description')).toMatch(/^AADSTS50076: /);
    expect(stepUp.searchParams.get('state')).toBe('silent');
  });
});

describe('External ID prompt values', () => {
  it('refuses an unknown prompt or a list of prompts with AADSTS90023 at the redirect URI', async () => {
    const browser = new HttpBrowser(t.azure.identityUrl);
    for (const prompt of [
      'bogus',
      'consent select_account',
      'none login',
      'Login',
      'admin_consent',
    ]) {
      const res = expectRedirect(await browser.open(authorizeUrl({ prompt })));
      expect({ prompt, at: `${res.origin}${res.pathname}` }).toEqual({ prompt, at: REDIRECT_URI });
      expect(res.searchParams.get('error')).toBe('invalid_request');
      expect(res.searchParams.get('error_description')).toMatch(/^AADSTS90023: /);
      expect(res.searchParams.get('state')).toBe('silent');
    }
    // The documented values start the sign-in experience (create: the sign-up page).
    for (const prompt of ['login', 'consent', 'select_account', 'create']) {
      const page = expectPage(await browser.open(authorizeUrl({ prompt })));
      const expected = prompt === 'create' ? '/ciam/signup' : '/ciam/signin';
      expect({ prompt, url: page.url }).toEqual({
        prompt,
        url: expect.stringContaining(expected) as unknown,
      });
    }
  });
});
