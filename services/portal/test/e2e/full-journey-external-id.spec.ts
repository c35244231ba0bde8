// The customer journey in headless Chromium on Microsoft Entra External ID (the
// contosoext tenant of dev-azure), through the local HTTPS entry point: sign up
// with an emailed code, claims, first policy view, profile edit through Graph,
// password reset from the menu (inside sign-in), beneficiaries only after
// step-up (claims challenge for authentication context c1 answered with an email
// one-time passcode), history, sign out. policy-api trusts B2C and External ID
// (migration window). Built dist/main.js of policy-api and the portal are run.
import { useJourney } from '../support/journey';
import { B2C_PORTAL_CLIENT_ID, EXTERNAL_ID, externalIdPortalEnv } from '../support/portal-env';

jest.setTimeout(240_000);

const B2C_POLICY_API_CLIENT_ID = '1d5a0a76-3f56-4b6a-a5fa-4dc21dbc0c05';
// Migrated from B2C: a new object id in contosoext, her B2C object id in extn.legacyB2cObjectId.
const ALICE = { email: 'alice@contoso.example', password: 'Alice-ext-Passw0rd!' };

const j = useJourney({
  name: 'external-id',
  policyApiEnv: (azure) => {
    const b2cFlow = (flow: string) =>
      `${azure.identityUrl}/contoso.onmicrosoft.com/${flow}/v2.0/.well-known/openid-configuration`;
    return {
      // Migration window: B2C and External ID tokens both accepted.
      B2C_IDENTITY_METADATA: [
        b2cFlow('b2c_1_signupsignin'),
        b2cFlow('b2c_1_signupsignin_mfa'),
      ].join(','),
      API_AUDIENCE: B2C_POLICY_API_CLIENT_ID,
      EXTERNAL_ID_TENANT_ID: EXTERNAL_ID.tenantId,
      EXTERNAL_ID_METADATA: `${azure.identityUrl}/${EXTERNAL_ID.tenantId}/v2.0/.well-known/openid-configuration`,
      EXTERNAL_ID_AUDIENCE: EXTERNAL_ID.apiClientId,
      LEGACY_OBJECT_ID_CLAIM: 'extn.legacyB2cObjectId',
      STEP_UP_AUTH_CONTEXT: 'c1',
    };
  },
  portalEnv: ({ entryUrl, identityUrl, policyApiUrl }) =>
    externalIdPortalEnv({ publicBaseUrl: entryUrl, identityUrl, policyApiUrl }),
});
const { shot, a11y, a11yReport, clickTo, text, count, sessionCookie, onPortal, onIdp } = j;
const heading = () => text('h1');

/** The newest code mailed to `to` for `purpose`, from the stand-in's test API. */
function mailedCode(to: string, purpose?: 'mfa' | 'passwordReset'): string {
  const code =
    j.azure.identity.lastMailedCode(to, {
      tenant: 'contosoext',
      ...(purpose ? { purpose } : {}),
    }) ?? '';
  expect(code).toMatch(/^\d{8}$/);
  return code;
}

const email = `e2e-ext-${Date.now()}@contoso.example`;
const password = 'First-Ext-Passw0rd!';
const newPassword = 'Second-Ext-Passw0rd!';

describe('customer journey in Chromium on External ID', () => {
  it('signs up (email verified with a mailed code) and lands on the portal signed in', async () => {
    await j.page.goto(`${j.entryUrl}/`);
    await clickTo('#signIn', onIdp);
    expect(await heading()).toBe('Sign in');
    await shot('external-id-sign-in');
    await a11yReport('external-id-sign-in');
    await clickTo('#createAccount', onIdp);
    await j.page.fill('#email', email);
    await j.page.fill('#newPassword', password);
    await j.page.fill('#reenterPassword', password);
    await j.page.fill('#givenName', 'Erin');
    await j.page.fill('#surname', 'External');
    await j.page.fill('#displayName', 'Erin External');
    await shot('external-id-sign-up');
    await a11yReport('external-id-sign-up');
    await clickTo('#continue', onIdp);
    expect(await heading()).toBe('Verify your email');
    await j.page.fill('#verificationCode', mailedCode(email));
    await shot('external-id-verify-email');
    await a11yReport('external-id-verify-email');
    const before = await sessionCookie();
    await clickTo('#verifyCode', onPortal('/'));
    const after = await sessionCookie();
    expect(after).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(after?.value).not.toBe(before?.value);
    expect(await text('#userName')).toBe('Erin External');
    await shot('home-signed-in');
    await a11y('home-signed-in');
  });

  it('shows the ID token claims (External ID: email and tid, no tfp)', async () => {
    await clickTo('a[href="/claims"]', onPortal('/claims'));
    expect(await text('td[data-claim="name"]')).toBe('Erin External');
    expect(await text('td[data-claim="email"]')).toBe(email);
    expect(await text('td[data-claim="tid"]')).toBe(EXTERNAL_ID.tenantId);
    expect(await count('td[data-claim="tfp"]')).toBe(0);
    await shot('claims');
    await a11y('claims');
  });

  it('creates the policy on the first view', async () => {
    await clickTo('a[href="/policy"]', onPortal('/policy'));
    expect(await text('dd[data-field="policyNumber"]')).toMatch(/^PN\d{10}$/);
    expect(await count('#noBeneficiaries')).toBe(1);
    expect(await text('#policyCreated')).toContain('we created your policy');
    await j.page.reload();
    expect(await count('#policyCreated')).toBe(0);
    await shot('policy-created');
    await a11y('policy-created');
  });

  it('edits the profile through Microsoft Graph and shows the renewed claims', async () => {
    await clickTo('a[href="/auth/edit-profile"]', onPortal('/profile'));
    expect(await j.page.inputValue('#givenName')).toBe('Erin');
    // Each field by its label, the save button by its name.
    const field = (name: string) => j.page.getByRole('textbox', { name, exact: true });
    expect(await field('Given name').inputValue()).toBe('Erin');
    expect(await field('Surname').inputValue()).toBe('External');
    expect(await field('Display name').inputValue()).toBe('Erin External');
    // An invalid form: the problem is announced, focused, tied to its field; what was typed stays.
    await field('Given name').fill('');
    await field('Display name').fill('Erin-Marie External');
    await Promise.all([
      j.page.waitForEvent('load'),
      j.page.getByRole('button', { name: 'Save profile' }).click(),
    ]);
    expect(await j.page.title()).toMatch(/^Error: Edit Profile/);
    expect(await j.page.getByRole('alert').textContent()).toContain('Given name: enter a value.');
    expect(await j.page.locator('#formErrors:focus').count()).toBe(1);
    expect(await field('Given name').getAttribute('aria-invalid')).toBe('true');
    const describedBy = (await field('Given name').getAttribute('aria-describedby')) ?? '';
    expect(await j.page.locator(`#${describedBy}`).textContent()).toContain(
      'Given name: enter a value.',
    );
    expect(await field('Surname').getAttribute('aria-invalid')).toBeNull();
    expect(await field('Display name').inputValue()).toBe('Erin-Marie External');
    await shot('profile-edit-errors');
    await a11y('profile-edit-errors');
    await j.page.fill('#givenName', 'Erin-Marie');
    await j.page.fill('#displayName', 'Erin-Marie External');
    await shot('profile-edit-form');
    await a11y('profile-edit-form');
    await clickTo('#saveProfile', onPortal('/claims'));
    expect(await text('#flash')).toMatch(/profile was updated/);
    expect(await text('td[data-claim="name"]')).toBe('Erin-Marie External');
    expect(await text('td[data-claim="given_name"]')).toBe('Erin-Marie');
    expect(j.azure.identity.findUser(email, { tenant: 'contosoext' })?.givenName).toBe(
      'Erin-Marie',
    );
    await shot('claims-after-profile-edit');
    await a11y('claims-after-profile-edit');
  });

  it('resets the password from the menu (inside the sign-in experience)', async () => {
    await clickTo('a[href="/auth/reset-password"]', onIdp);
    expect(await heading()).toBe('Sign in'); // prompt=login
    await clickTo('#forgotPassword', onIdp);
    expect(await heading()).toBe('Reset your password');
    await j.page.fill('#email', email);
    await clickTo('#sendCode', onIdp);
    await j.page.fill('#verificationCode', mailedCode(email, 'passwordReset'));
    await shot('external-id-reset-code');
    await a11yReport('external-id-reset-code');
    await clickTo('#verifyCode', onIdp);
    expect(await heading()).toBe('Choose a new password');
    await j.page.fill('#newPassword', newPassword);
    await j.page.fill('#reenterPassword', newPassword);
    await clickTo('#continue', onPortal('/'));
    expect(await text('#flash')).toMatch(/you are signed in/i);
    expect(await text('#userName')).toBe('Erin-Marie External');
    await shot('home-after-password-reset');
    await a11y('home-after-password-reset');
  });

  it('changes beneficiaries only after step-up (claims challenge, email one-time passcode), keeping what was typed', async () => {
    await clickTo('a[href="/policy/beneficiaries"]', onPortal('/policy/beneficiaries'));
    await j.page.fill('#name1', 'Sam Tester');
    await j.page.selectOption('#relationship1', 'spouse');
    await j.page.fill('#share1', '60');
    await j.page.fill('#name2', 'Alex Tester');
    await j.page.selectOption('#relationship2', 'child');
    await j.page.fill('#share2', '40');
    await shot('beneficiaries-form');
    await a11y('beneficiaries-form');
    // policy-api answers 401 + claims challenge: the portal re-authorizes with claims (acrs c1) and prompt=login.
    const authorizeRequest = j.page.waitForRequest((r) =>
      r.url().includes('/oauth2/v2.0/authorize'),
    );
    await clickTo('#saveBeneficiaries', onIdp);
    const authorize = new URL((await authorizeRequest).url());
    expect(JSON.parse(authorize.searchParams.get('claims') ?? '{}')).toMatchObject({
      access_token: { acrs: { essential: true, value: 'c1' }, xms_cc: { values: ['cp1'] } },
    });
    expect(authorize.searchParams.get('prompt')).toBe('login');
    expect(await heading()).toBe('Sign in');
    await j.page.fill('#password', newPassword);
    await clickTo('#next', onIdp);
    expect(await heading()).toBe('Verify your identity');
    expect(await text('#codeSentTo')).toBe(email);
    await shot('step-up-one-time-passcode');
    await a11yReport('step-up-one-time-passcode');
    // Cancel: back to the form with the typed values; nothing saved.
    await clickTo('#cancel', onPortal('/policy/beneficiaries'));
    expect(await text('#flash')).toMatch(/not saved/);
    expect(await j.page.inputValue('#name1')).toBe('Sam Tester');
    expect(await j.page.inputValue('#share2')).toBe('40');
    await shot('beneficiaries-after-cancelled-step-up');
    await a11y('beneficiaries-after-cancelled-step-up');

    await clickTo('#saveBeneficiaries', onIdp);
    await j.page.fill('#password', newPassword);
    await clickTo('#next', onIdp);
    await j.page.fill('#verificationCode', mailedCode(email, 'mfa'));
    await clickTo('#verifyCode', onPortal('/policy'));
    expect(await text('#flash')).toMatch(/beneficiaries were updated/);
    const rows = await j.page.locator('#beneficiaries tbody tr').allTextContents();
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/Sam Tester\s*spouse\s*60%/);
    expect(rows[1]).toMatch(/Alex Tester\s*child\s*40%/);
    await shot('policy-after-change');
    await a11y('policy-after-change');
  });

  it('shows the change in the history, made with authentication context c1', async () => {
    await clickTo('a[href="/policy/history"]', onPortal('/policy/history'));
    const entries = await j.page.locator('#history > li').allTextContents();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toContain('acrs:c1');
    expect(entries[0]).toContain('Sam Tester');
    await shot('history');
    await a11y('history');
  });

  it('signs out at the end_session_endpoint and back to the portal', async () => {
    await clickTo('#signOut', onPortal('/'));
    expect(await count('#signIn')).toBe(1);
    expect(await sessionCookie()).toBeUndefined();
    await shot('home-after-sign-out');
    await a11y('home-after-sign-out');
    const logout = j.logoutRequest();
    expect(logout.searchParams.get('client_id')).toBe(EXTERNAL_ID.clientId);
    expect([...logout.searchParams.keys()]).not.toContain('id_token_hint');
    await j.page.goto(`${j.entryUrl}/claims`);
    await j.page.waitForURL(onIdp);
    expect(await heading()).toBe('Sign in'); // the tenant session ended too
  });

  it('signs in with the new password', async () => {
    await j.page.fill('#email', email);
    await j.page.fill('#password', newPassword);
    await clickTo('#next', onPortal('/claims'));
    expect(await text('td[data-claim="name"]')).toBe('Erin-Marie External');
    await shot('claims-after-sign-in-with-new-password');
    await a11y('claims-after-sign-in-with-new-password');
  });

  it('shows a user migrated from B2C the policy she had on B2C', async () => {
    // Alice's policy as B2C knows it (created on her first B2C read), before she ever signs in on External ID.
    const b2cToken = await j.azure.identity.issueUserAccessToken({
      tenant: 'contoso',
      flow: 'B2C_1_signupsignin',
      userEmail: ALICE.email,
      clientId: B2C_PORTAL_CLIENT_ID,
      scopes: ['https://contoso.onmicrosoft.com/policy-api/Accounts.Read'],
    });
    const b2cPolicy = (await (
      await fetch(`${j.apiUrl}/policies/me`, { headers: { authorization: `Bearer ${b2cToken}` } })
    ).json()) as { policyNumber: string };
    expect(b2cPolicy.policyNumber).toMatch(/^PN\d{10}$/);

    await clickTo('#signOut', onPortal('/'));
    await clickTo('#signIn', onIdp);
    await j.page.fill('#email', ALICE.email);
    await j.page.fill('#password', ALICE.password);
    await clickTo('#next', onPortal('/'));
    await clickTo('a[href="/policy"]', onPortal('/policy'));
    expect(await text('dd[data-field="policyNumber"]')).toBe(b2cPolicy.policyNumber);
    expect(await count('#policyCreated')).toBe(0); // hers, not a new one
    await shot('migrated-user-policy');
    await a11y('migrated-user-policy');
  });
});
