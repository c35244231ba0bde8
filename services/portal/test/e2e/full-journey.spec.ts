// The whole customer journey in headless Chromium, through the local HTTPS entry point (scripts/entry-proxy.mjs):
// sign up, claims, first policy view, beneficiaries with real step-up MFA
// (TOTP), history, profile edit, password reset, sign out, sign in again.
// dev-azure runs in-process; policy-api and the portal run as processes from
// their built dist/main.js (npm run build in both workspaces first).
import { generate } from 'otplib';
import type { Page } from 'playwright-core';
import { useJourney } from '../support/journey';
import { B2C_PORTAL_CLIENT_ID, portalEnv } from '../support/portal-env';

jest.setTimeout(240_000);

const POLICY_API_CLIENT_ID = '1d5a0a76-3f56-4b6a-a5fa-4dc21dbc0c05';

const j = useJourney({
  name: 'b2c',
  policyApiEnv: (azure) => {
    const flowMetadata = (flow: string) =>
      `${azure.identityUrl}/contoso.onmicrosoft.com/${flow}/v2.0/.well-known/openid-configuration`;
    return {
      B2C_IDENTITY_METADATA: [
        flowMetadata('b2c_1_signupsignin'),
        flowMetadata('b2c_1_signupsignin_mfa'),
      ].join(','),
      API_AUDIENCE: POLICY_API_CLIENT_ID,
    };
  },
  portalEnv: ({ entryUrl, identityUrl, policyApiUrl }) =>
    portalEnv({ publicBaseUrl: entryUrl, b2cHost: identityUrl, policyApiUrl }),
});
const { shot, a11y, a11yReport, clickTo, text, count, sessionCookie, onPortal } = j;
const onB2c = j.onIdp;

/** Signs in on `page` (the user flow asks for the password unless its session is still on). */
async function signInIn(page: Page, returnTo: string): Promise<void> {
  await page.goto(`${j.entryUrl}/auth/sign-in?returnTo=${encodeURIComponent(returnTo)}`);
  await page.waitForURL((u) => onB2c(u) || onPortal(returnTo)(u));
  if (onB2c(new URL(page.url()))) {
    await page.fill('#email', email);
    await page.fill('#password', newPassword);
    await Promise.all([page.waitForURL(onPortal(returnTo)), page.click('#next')]);
  }
}

const email = `e2e-${Date.now()}@contoso.example`;
const password = 'First-Passw0rd!';
const newPassword = 'Second-Passw0rd!';

describe('customer journey in Chromium', () => {
  it('signs up through the B2C user flow and lands on the portal signed in', async () => {
    await j.page.goto(`${j.entryUrl}/`);
    await shot('home-signed-out');
    await a11y('home-signed-out');
    // Found by role and name too, as suites that drive a browser by what people see would.
    expect(await j.page.getByRole('link', { name: 'Sign in', exact: true }).count()).toBe(1);
    expect(await j.page.getByRole('link', { name: 'Sign in or sign up' }).count()).toBe(1);
    expect(await j.page.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
    await clickTo('#signIn', onB2c);
    await shot('b2c-sign-in');
    await a11yReport('b2c-sign-in');
    await clickTo('#createAccount', onB2c);
    await j.page.fill('#email', email);
    await j.page.fill('#newPassword', password);
    await j.page.fill('#reenterPassword', password);
    await j.page.fill('#givenName', 'Erin');
    await j.page.fill('#surname', 'Tester');
    await j.page.fill('#displayName', 'Erin Tester');
    await shot('b2c-sign-up');
    await a11yReport('b2c-sign-up');
    const before = await sessionCookie();
    expect(before).toBeDefined(); // created when sign-in started (it holds state, nonce, PKCE verifier)
    await clickTo('#continue', onPortal('/'));
    const after = await sessionCookie();
    expect(after).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(after?.value).not.toBe(before?.value); // new session id at sign-in
    expect(await text('#userName')).toBe('Erin Tester');
    await shot('home-signed-in');
    await a11y('home-signed-in');
    expect(await j.page.getByRole('button', { name: 'Sign out' }).count()).toBe(1);
    expect(await j.page.getByRole('link', { name: 'Sign in', exact: true }).count()).toBe(0);
  });

  it('can be used from the keyboard: skip link first, visible focus, no trap', async () => {
    const { page } = j;
    const focused = () =>
      page.evaluate(() => {
        const doc = (globalThis as unknown as { document: { activeElement: unknown } }).document;
        const el = doc.activeElement as {
          id: string;
          tagName: string;
          textContent: string | null;
        } | null;
        const style = el
          ? (
              globalThis as unknown as {
                getComputedStyle(e: unknown): { outlineStyle: string; outlineWidth: string };
              }
            ).getComputedStyle(el)
          : undefined;
        return {
          id: el?.id ?? '',
          tag: el?.tagName.toLowerCase() ?? '',
          text: (el?.textContent ?? '').trim(),
          outline: style ? `${style.outlineStyle} ${style.outlineWidth}` : '',
        };
      });
    await page.goto(`${j.entryUrl}/`);
    await page.keyboard.press('Tab');
    expect(await focused()).toMatchObject({
      tag: 'a',
      text: 'Skip to main content',
      outline: 'solid 3px',
    });
    await page.keyboard.press('Enter');
    expect((await focused()).id).toBe('main');
    // From the top again: every control of the menu takes focus in turn, visibly, up to Sign out.
    await page.goto(`${j.entryUrl}/`);
    await page.keyboard.press('Tab'); // the skip link
    const stops: string[] = [];
    for (let i = 0; i < 12 && !stops.includes('Sign out'); i++) {
      await page.keyboard.press('Tab');
      const f = await focused();
      expect({ control: f.text, outline: f.outline }).toEqual({
        control: f.text,
        outline: 'solid 3px',
      });
      stops.push(f.text);
    }
    expect(stops).toEqual([
      'Home',
      'My Claims',
      'My Policy',
      'Change Beneficiaries',
      'History',
      'Test API',
      'Edit Profile',
      'Reset Password',
      'Sign out',
    ]);
    // ...and on past the menu (focus is not trapped there).
    await page.keyboard.press('Tab');
    expect((await focused()).text).not.toBe('Sign out');
  });

  it('shows the ID token claims', async () => {
    await clickTo('a[href="/claims"]', onPortal('/claims'));
    expect(await text('td[data-claim="name"]')).toBe('Erin Tester');
    expect(await text('td[data-claim="emails"]')).toBe(email);
    expect(await text('td[data-claim="tfp"]')).toMatch(/B2C_1_signupsignin/i);
    await shot('claims');
    await a11y('claims');
  });

  it('creates the policy on the first view', async () => {
    await clickTo('a[href="/policy"]', onPortal('/policy'));
    expect(await text('dd[data-field="policyNumber"]')).toMatch(/^PN\d{10}$/);
    expect(await count('#noBeneficiaries')).toBe(1);
    // The API created it on this read (201): the portal says so once.
    expect(await text('#policyCreated')).toContain('we created your policy');
    await j.page.reload();
    expect(await count('#policyCreated')).toBe(0);
    await shot('policy-created');
    await a11y('policy-created');
  });

  it('explains form errors next to each field, announced, and keeps what was typed', async () => {
    const { page } = j;
    await clickTo('#changeBeneficiaries', onPortal('/policy/beneficiaries'));
    const row = (n: number) => page.getByRole('group', { name: `Beneficiary ${n}`, exact: true });
    // Every field by a name of its own (row first: a screen reader's field list, or getByLabel
    // on the whole page, tells the five rows apart), and the save button by its name.
    for (let n = 1; n <= 5; n++) {
      for (const [role, label] of [
        ['textbox', 'Name'],
        ['combobox', 'Relationship'],
        ['textbox', 'Share (%)'],
      ] as const) {
        const name = `Beneficiary ${n} ${label}`;
        expect([name, await page.getByRole(role, { name, exact: true }).count()]).toEqual([
          name,
          1,
        ]);
        expect(await row(n).getByLabel(name, { exact: true }).count()).toBe(1);
      }
    }
    expect(await page.getByLabel('Name', { exact: true }).count()).toBe(0);
    await page.getByLabel('Beneficiary 1 Name', { exact: true }).fill('Sam Tester');
    await page.getByLabel('Beneficiary 1 Share (%)', { exact: true }).fill('160');
    // Pasted values are not cut by the browser: a share of 1000 and a 150-emoji name (300 UTF-16
    // units, 150 characters as the API counts them) reach the server whole.
    const emojiName = '\u{1F642}'.repeat(150);
    await page.getByLabel('Beneficiary 2 Name', { exact: true }).fill(emojiName);
    await page.getByLabel('Beneficiary 2 Share (%)', { exact: true }).fill('1000');
    await Promise.all([
      page.waitForURL(onPortal('/policy/beneficiaries')),
      page.waitForEvent('load'),
      page.getByRole('button', { name: 'Save beneficiaries' }).click(),
    ]);
    expect(await page.title()).toMatch(/^Error: Change Beneficiaries/);
    // The summary is announced and focused; each item links to its field.
    const summary = page.getByRole('alert');
    expect(await summary.textContent()).toContain('Beneficiary 1: choose a relationship.');
    expect(await summary.textContent()).toContain(
      'Beneficiary 2: the share must be a whole number from 1 to 100.',
    );
    expect(await page.getByLabel('Beneficiary 2 Share (%)', { exact: true }).inputValue()).toBe(
      '1000',
    );
    expect(await page.getByLabel('Beneficiary 2 Name', { exact: true }).inputValue()).toBe(
      emojiName,
    );
    expect(await page.locator('#formErrors:focus').count()).toBe(1);
    expect(
      await summary
        .getByRole('link', { name: 'Beneficiary 1: choose a relationship.' })
        .getAttribute('href'),
    ).toBe('#relationship1');
    // Each field says it is invalid and why (its description is the message).
    const relationship = page.getByRole('combobox', {
      name: 'Beneficiary 1 Relationship',
      exact: true,
    });
    expect(await relationship.getAttribute('aria-invalid')).toBe('true');
    const describedBy = (await relationship.getAttribute('aria-describedby')) ?? '';
    expect(await page.locator(`#${describedBy}`).textContent()).toContain(
      'Beneficiary 1: choose a relationship.',
    );
    const share = page.getByRole('textbox', { name: 'Beneficiary 1 Share (%)', exact: true });
    expect(await share.getAttribute('aria-invalid')).toBe('true');
    expect(
      await page.getByLabel('Beneficiary 1 Name', { exact: true }).getAttribute('aria-invalid'),
    ).toBeNull();
    // What was typed is kept, wrong or not.
    expect(await page.getByLabel('Beneficiary 1 Name', { exact: true }).inputValue()).toBe(
      'Sam Tester',
    );
    expect(await share.inputValue()).toBe('160');
    await shot('beneficiaries-form-errors');
    await a11y('beneficiaries-form-errors');
  });

  it('changes beneficiaries after step-up MFA (TOTP enrolment), keeping what was typed', async () => {
    await j.page.fill('#name1', 'Sam Tester');
    await j.page.selectOption('#relationship1', 'spouse');
    await j.page.fill('#share1', '60');
    await j.page.fill('#name2', 'Alex Tester');
    await j.page.selectOption('#relationship2', 'child');
    await j.page.fill('#share2', '40');
    await shot('beneficiaries-form');
    await a11y('beneficiaries-form');
    const toMfaFlow = (u: URL) => onB2c(u) && /b2c_1_signupsignin_mfa/i.test(u.pathname);
    // The API answers 401 + RFC 9470 challenge: the portal runs the MFA flow with prompt=login.
    await clickTo('#saveBeneficiaries', toMfaFlow);
    expect(await j.page.inputValue('#email')).toBe(email);
    await j.page.fill('#password', password);
    await shot('step-up-sign-in');
    await a11yReport('step-up-sign-in');
    await clickTo('#next', toMfaFlow);
    // Cancelling the step-up comes back to the form with what was typed, nothing saved.
    await clickTo('#cancel', onPortal('/policy/beneficiaries'));
    expect(await text('#flash')).toMatch(/not saved/);
    expect(await j.page.inputValue('#name1')).toBe('Sam Tester');
    expect(await j.page.inputValue('#relationship2')).toBe('child');
    expect(await j.page.inputValue('#share2')).toBe('40');
    await shot('beneficiaries-after-cancelled-step-up');
    await a11y('beneficiaries-after-cancelled-step-up');
    await clickTo('#saveBeneficiaries', toMfaFlow);
    await j.page.fill('#password', password);
    await clickTo('#next', toMfaFlow);
    const secret = (await j.page.locator('#totpSecret').textContent())?.trim() ?? '';
    expect(secret).toMatch(/^[A-Z2-7]+=*$/);
    await shot('step-up-totp-enrolment');
    await a11yReport('step-up-totp-enrolment');
    await j.page.fill('#totpCode', await generate({ secret }));
    await clickTo('#verifyTotp', onPortal('/policy'));
    expect(await text('#flash')).toMatch(/beneficiaries were updated/);
    const rows = await j.page.locator('#beneficiaries tbody tr').allTextContents();
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/Sam Tester\s*spouse\s*60%/);
    expect(rows[1]).toMatch(/Alex Tester\s*child\s*40%/);
    await shot('policy-after-change');
    await a11y('policy-after-change');
  });

  it('shows the change in the history, made with the MFA flow', async () => {
    await clickTo('a[href="/policy/history"]', onPortal('/policy/history'));
    const entries = await j.page.locator('#history > li').allTextContents();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatch(/b2c_1_signupsignin_mfa/i);
    expect(entries[0]).toContain('Sam Tester');
    await shot('history');
    await a11y('history');
  });

  it('edits the profile and shows the new name in the claims', async () => {
    await clickTo('a[href="/auth/edit-profile"]', onB2c);
    await j.page.fill('#givenName', 'Erin-Marie');
    await j.page.fill('#displayName', 'Erin-Marie Tester');
    await shot('b2c-profile-edit');
    await a11yReport('b2c-profile-edit');
    await clickTo('#continue', onPortal('/claims'));
    expect(await text('#flash')).toMatch(/profile was updated/);
    expect(await text('td[data-claim="name"]')).toBe('Erin-Marie Tester');
    expect(await text('td[data-claim="given_name"]')).toBe('Erin-Marie');
    await shot('claims-after-profile-edit');
    await a11y('claims-after-profile-edit');
  });

  it('resets the password through its user flow', async () => {
    await clickTo('a[href="/auth/reset-password"]', onB2c);
    await j.page.fill('#email', email);
    await clickTo('#sendCode', onB2c);
    const code = (await j.page.locator('#devVerificationCode').textContent())?.trim() ?? '';
    await j.page.fill('#verificationCode', code);
    await shot('b2c-reset-code');
    await a11yReport('b2c-reset-code');
    await clickTo('#verifyCode', onB2c);
    await j.page.fill('#newPassword', newPassword);
    await j.page.fill('#reenterPassword', newPassword);
    await clickTo('#continue', onPortal('/'));
    expect(await text('#flash')).toMatch(/password was changed/);
    await shot('home-after-password-reset');
    await a11y('home-after-password-reset');
  });

  it('calls the public API endpoint from the Test API page', async () => {
    await clickTo('a[href="/test-api"]', onPortal('/test-api'));
    expect(await text('#apiStatus')).toBe('200');
    await shot('test-api');
    await a11y('test-api');
  });

  it('shows an accessible error page for an unknown address', async () => {
    const res = await j.page.goto(`${j.entryUrl}/no-such-page`);
    expect(res?.status()).toBe(404);
    expect(await j.page.getByRole('link', { name: 'Back to the home page' }).count()).toBe(1);
    await shot('error-not-found');
    await a11y('error-not-found');
  });

  it('signs out through the user flow logout and back to the portal', async () => {
    await j.page.goto(`${j.entryUrl}/claims`);
    expect(await count('td[data-claim="name"]')).toBe(1);
    await Promise.all([
      j.page.waitForURL(onPortal('/')),
      j.page.getByRole('button', { name: 'Sign out' }).click(),
    ]);
    expect(await count('#signIn')).toBe(1);
    expect(await count('#userName')).toBe(0);
    await shot('home-after-sign-out');
    await a11y('home-after-sign-out');
    expect(await sessionCookie()).toBeUndefined();
    // The logout request names the application; the ID token never travels in a browser URL.
    const logout = j.logoutRequest();
    expect(logout.searchParams.get('client_id')).toBe(B2C_PORTAL_CLIENT_ID);
    expect([...logout.searchParams.keys()]).not.toContain('id_token_hint');
    // Back after sign-out: the claims page is not shown from a cache (no-store), it is asked for
    // again and goes to sign-in.
    await j.page.goBack();
    await j.page.waitForURL(onB2c);
    expect(await count('td[data-claim]')).toBe(0);
    await j.page.goto(`${j.entryUrl}/claims`);
    await j.page.waitForURL(onB2c); // no session any more: sign-in again
  });

  it('signs in with the new password (the old one no longer works)', async () => {
    await j.page.fill('#email', email);
    await j.page.fill('#password', password);
    await Promise.all([j.page.waitForLoadState(), j.page.click('#next')]);
    await j.page.waitForSelector('#errorMessage');
    await a11yReport('b2c-sign-in-wrong-password');
    await j.page.fill('#password', newPassword);
    await clickTo('#next', onPortal('/claims'));
    expect(await text('td[data-claim="name"]')).toBe('Erin-Marie Tester');
    await shot('claims-after-sign-in-with-new-password');
    await a11y('claims-after-sign-in-with-new-password');
  });

  it('a sign-out form loaded before a sign-in in another tab still signs the user out', async () => {
    // Tab 1 shows a page: its sign-out form carries this session's CSRF token...
    await j.page.goto(`${j.entryUrl}/claims`);
    const before = await sessionCookie();
    // ...while tab 2 signs in again, which gives the session a new id and a new token.
    const tab2 = await j.page.context().newPage();
    try {
      await signInIn(tab2, '/claims');
      expect((await sessionCookie())?.value).not.toBe(before?.value);
      // Tab 1's form, older than that sign-in: the user ends up signed out, not on an error page.
      await Promise.all([
        j.page.waitForURL(onPortal('/')),
        j.page.getByRole('button', { name: 'Sign out' }).click(),
      ]);
      expect(await count('#signIn')).toBe(1);
      expect(await sessionCookie()).toBeUndefined();
      await tab2.goto(`${j.entryUrl}/claims`);
      await tab2.waitForURL(onB2c); // tab 2's session is the one that ended
    } finally {
      await tab2.close();
    }
  });

  it('a sign-out form too old to trust asks once more, on an accessible page, instead of an error', async () => {
    await signInIn(j.page, '/claims');
    // The form's token as a form from before the last minute's sign-ins would carry it.
    await j.page
      .locator('form[action="/auth/sign-out"] input[name="_csrf"]')
      .evaluate((input) => input.setAttribute('value', 'from-an-older-page'));
    await Promise.all([
      j.page.waitForURL(onPortal('/auth/sign-out')),
      j.page.getByRole('button', { name: 'Sign out', exact: true }).click(),
    ]);
    expect(await text('h1')).toBe('Sign out');
    expect(await count('#userName')).toBe(1); // still signed in: nothing was done
    await shot('sign-out-confirmation');
    await a11y('sign-out-confirmation');
    await clickTo('#confirmSignOut', onPortal('/'));
    expect(await count('#signIn')).toBe(1);
    expect(await sessionCookie()).toBeUndefined();
  });
});
