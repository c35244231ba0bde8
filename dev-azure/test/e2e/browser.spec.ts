// Headless Chromium through the real pages: sign-up (with a password-policy
// error first), step-up TOTP enrolment with a code computed from the secret
// shown on the page, password reset with the displayed verification code,
// then sign-in with the new password and a TOTP code.
import { randomUUID } from 'node:crypto';
import { generate } from 'otplib';
import type { Browser, Page } from 'playwright-core';
import { decodeJwt } from 'jose';
import { ensureDevCa } from '../../src';
import { launchChromium } from '../support/chromium';
import { seed, startTestAzure, type TestAzure } from '../support/harness';
import { startRelyingParty, type Callback, type RelyingParty } from '../support/relying-party';

const { contoso } = seed;
let t: TestAzure;
let rp: RelyingParty;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

beforeAll(async () => {
  const ca = await ensureDevCa();
  [t, rp] = await Promise.all([startTestAzure(), startRelyingParty(ca)]);
  browser = await launchChromium(ca);
  page = await (await browser.newContext()).newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await Promise.all([t?.stop(), rp?.stop()]);
});

function authorizeUrl(flow: string, state: string, extra: Record<string, string> = {}): string {
  return `${t.azure.identityUrl}/contoso.onmicrosoft.com/${flow}/oauth2/v2.0/authorize?${new URLSearchParams(
    {
      client_id: contoso.portal.clientId,
      redirect_uri: rp.redirectUri,
      response_type: 'code',
      scope: 'openid offline_access api://policy-api/Accounts.Read',
      state,
      nonce: randomUUID(),
      ...extra,
    },
  )}`;
}

/** Waits for the browser to land on the relying party and returns what it received. */
async function backAtApp(state: string): Promise<Callback> {
  await page.waitForURL((u) => u.toString().startsWith(rp.redirectUri), { timeout: 15_000 });
  const cb = rp.callbacks.find((c) => c.state === state);
  if (!cb) throw new Error(`no callback for state ${state}`);
  return cb;
}

async function redeem(flow: string, code: string): Promise<Record<string, unknown>> {
  const res = await fetch(
    `${t.azure.identityUrl}/contoso.onmicrosoft.com/${flow}/oauth2/v2.0/token`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: contoso.portal.clientId,
        client_secret: contoso.portal.secret,
        code,
        redirect_uri: rp.redirectUri,
      }).toString(),
    },
  );
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

describe('user flows in headless Chromium', () => {
  const email = `dana.${Date.now()}@contoso.example`;
  const firstPassword = 'Dana-first-Passw0rd!';
  const newPassword = 'Dana-second-Passw0rd!';

  it('signs up a new customer (password policy enforced on the page)', async () => {
    await page.goto(authorizeUrl('B2C_1_signupsignin', 'signup'));
    await expectHeading('Sign in');
    await page.click('#createAccount');
    await expectHeading('Create your account');
    await page.fill('#email', email);
    await page.fill('#newPassword', 'weak');
    await page.fill('#reenterPassword', 'weak');
    await page.fill('#givenName', 'Dana');
    await page.fill('#surname', 'Browser');
    await page.fill('#displayName', 'Dana Browser');
    await page.click('#continue');
    await expect(page.locator('#errorMessage').textContent()).resolves.toContain(
      'The password must be between 8 and 64 characters.',
    );
    await page.fill('#newPassword', firstPassword);
    await page.fill('#reenterPassword', firstPassword);
    await page.click('#continue');
    const cb = await backAtApp('signup');
    const tokens = await redeem('b2c_1_signupsignin', cb.code ?? '');
    expect(decodeJwt(String(tokens.id_token))).toMatchObject({
      emails: [email],
      given_name: 'Dana',
      family_name: 'Browser',
      name: 'Dana Browser',
      tfp: 'B2C_1_signupsignin',
    });
  });

  it('steps up with TOTP: enrols from the secret shown on the page', async () => {
    await page.goto(authorizeUrl('B2C_1_signupsignin_mfa', 'mfa-enrol'));
    // SSO from the sign-up: no password, straight to enrolment.
    await expectHeading('Set up your authenticator app');
    await expect(page.locator('#totpQrCode').getAttribute('src')).resolves.toMatch(
      /^data:image\/png;base64,/,
    );
    const secret = ((await page.locator('#totpSecret').textContent()) ?? '').trim();
    expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
    await page.fill('#totpCode', '000000');
    await page.click('#verifyTotp');
    await expect(page.locator('#errorMessage').textContent()).resolves.toContain('Wrong code');
    await page.fill('#totpCode', await generate({ secret }));
    await page.click('#verifyTotp');
    const cb = await backAtApp('mfa-enrol');
    const tokens = await redeem('b2c_1_signupsignin_mfa', cb.code ?? '');
    expect(decodeJwt(String(tokens.access_token))).toMatchObject({
      tfp: 'B2C_1_signupsignin_mfa',
      scp: 'Accounts.Read',
      emails: [email],
    });
    expect(t.azure.identity.findUser(email)?.totpEnrolled).toBe(true);
  });

  it('resets the password with the verification code displayed on the page', async () => {
    await page.goto(authorizeUrl('B2C_1_passwordreset', 'reset'));
    await expectHeading('Reset your password');
    await page.fill('#email', email);
    await page.click('#sendCode');
    await expectHeading('Verify your email');
    const shown = ((await page.locator('#devVerificationCode').textContent()) ?? '').trim();
    expect(shown).toBe(t.azure.identity.passwordResetCode(email));
    await page.fill('#verificationCode', shown);
    await page.click('#verifyCode');
    await expectHeading('Choose a new password');
    await page.fill('#newPassword', newPassword);
    await page.fill('#reenterPassword', newPassword);
    await page.click('#continue');
    const cb = await backAtApp('reset');
    expect(cb.code).toBeTruthy();
  });

  it('signs in again with the new password and a TOTP code (prompt=login)', async () => {
    await page.goto(authorizeUrl('B2C_1_signupsignin_mfa', 'signin-mfa', { prompt: 'login' }));
    await expectHeading('Sign in');
    await page.fill('#email', email);
    await page.fill('#password', firstPassword);
    await page.click('#next');
    await expect(page.locator('#errorMessage').textContent()).resolves.toContain(
      'Invalid username or password.',
    );
    await page.fill('#password', newPassword);
    await page.click('#next');
    await expectHeading('Enter your verification code');
    // The enrolment used the current time step; an authenticator shows the next one 30 s later.
    await page.fill('#totpCode', await t.azure.identity.currentTotp(email, { offsetSteps: 1 }));
    await page.click('#verifyTotp');
    const cb = await backAtApp('signin-mfa');
    const tokens = await redeem('b2c_1_signupsignin_mfa', cb.code ?? '');
    expect(decodeJwt(String(tokens.id_token))).toMatchObject({
      tfp: 'B2C_1_signupsignin_mfa',
      emails: [email],
    });
  });

  it('ran every page under its Content-Security-Policy without violations', () => {
    expect(consoleErrors.filter((m) => /Content Security Policy/i.test(m))).toEqual([]);
  });
});

async function expectHeading(text: string): Promise<void> {
  await expect(page.locator('h1').textContent()).resolves.toBe(text);
}
