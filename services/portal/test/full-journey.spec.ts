// The whole customer journey in headless Chromium, through the local HTTPS entry point (scripts/entry-proxy.mjs):
// sign up, claims, first policy view, beneficiaries with real step-up MFA
// (TOTP), history, profile edit, password reset, sign out, sign in again.
// dev-azure runs in-process; policy-api and the portal run as processes from
// their built dist/main.js (npm run build in both workspaces first).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startDevAzure, type DevAzure } from '@idp/dev-azure';
import { freePort, startNats, startNode, startPostgres, waitForHttp, type RunningProcess, type TestNatsServer, type TestPostgres } from '@idp/testing';
import { generate } from 'otplib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { portalEnv } from './support/portal-env';

jest.setTimeout(240_000);

const ARTIFACTS = join(__dirname, '..', 'artifacts', 'e2e', 'b2c');
const PORTAL_ENTRY = join(__dirname, '..', 'dist', 'main.js');
const POLICY_API_ENTRY = join(__dirname, '..', '..', 'policy-api', 'dist', 'main.js');
// The local HTTPS entry point of `npm run up` (routes mirror the ingress).
const ENTRY_PROXY = join(__dirname, '..', '..', '..', 'scripts', 'entry-proxy.mjs');
const POLICY_API_CLIENT_ID = '1d5a0a76-3f56-4b6a-a5fa-4dc21dbc0c05';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

let pg: TestPostgres;
let nats: TestNatsServer;
let azure: DevAzure;
let dataDir: string;
let entryUrl: string;
let entry: RunningProcess;
let api: RunningProcess;
let portal: RunningProcess;
let browser: Browser;
let page: Page;
let shotNo = 0;

async function shot(name: string): Promise<void> {
  shotNo += 1;
  await page.screenshot({ path: join(ARTIFACTS, `${String(shotNo).padStart(2, '0')}-${name}.png`), fullPage: true });
}

/** Clicks and waits for the navigation it causes to land on `url`. */
async function clickTo(selector: string, url: RegExp | ((u: URL) => boolean)): Promise<void> {
  await Promise.all([page.waitForURL(url), page.click(selector)]);
}

const text = async (selector: string): Promise<string> => ((await page.locator(selector).first().textContent()) ?? '').trim();
const count = (selector: string): Promise<number> => page.locator(selector).count();

const sessionCookie = async () => (await page.context().cookies(entryUrl)).find((c) => c.name === '__Host-portal_sid');

const onPortal = (path: string) => (u: URL) => u.origin === entryUrl && u.pathname === path;
const onB2c = (u: URL) => u.origin === azure.identityUrl;

beforeAll(async () => {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), 'portal-e2e-'));
  [pg, nats, azure] = await Promise.all([startPostgres(), startNats(), startDevAzure({ dataDir, keyVault: false })]);
  const flowMetadata = (flow: string) => `${azure.identityUrl}/contoso.onmicrosoft.com/${flow}/v2.0/.well-known/openid-configuration`;
  const [apiPort, portalPort, entryPort] = [await freePort(), await freePort(), await freePort()];
  entryUrl = `https://localhost:${entryPort}`;
  const caDir = dirname(process.env.NODE_EXTRA_CA_CERTS ?? '');
  entry = startNode(ENTRY_PROXY, {
    ENTRY_PORT: String(entryPort),
    ENTRY_TLS_CERT: join(caDir, 'server.pem'),
    ENTRY_TLS_KEY: join(caDir, 'server.key.pem'),
    ENTRY_ROUTES: JSON.stringify([{ prefix: '/', upstream: `http://127.0.0.1:${portalPort}` }]),
  });
  api = startNode(POLICY_API_ENTRY, {
    NODE_ENV: 'test',
    PORT: String(apiPort),
    LOG_LEVEL: 'warn',
    NATS_URL: nats.url,
    DATABASE_URL: await pg.createDatabase(),
    MIGRATE_ON_START: 'true',
    B2C_IDENTITY_METADATA: [flowMetadata('b2c_1_signupsignin'), flowMetadata('b2c_1_signupsignin_mfa')].join(','),
    API_AUDIENCE: POLICY_API_CLIENT_ID,
  });
  portal = startNode(PORTAL_ENTRY, {
    ...portalEnv({ publicBaseUrl: entryUrl, b2cHost: azure.identityUrl, policyApiUrl: `http://127.0.0.1:${apiPort}` }),
    PORT: String(portalPort),
    LOG_LEVEL: 'info',
    NATS_URL: nats.url,
    DATABASE_URL: await pg.createDatabase(),
    MIGRATE_ON_START: 'true',
  });
  await Promise.all([
    waitForHttp(`http://127.0.0.1:${apiPort}/readyz`, { proc: api }),
    waitForHttp(`http://127.0.0.1:${portalPort}/readyz`, { proc: portal }),
    waitForHttp(`https://127.0.0.1:${entryPort}/healthz`, { proc: entry }),
  ]);
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  // The dev CA is not in Chromium's store; Secure cookies still need (and get) an https origin.
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1100, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
});

afterAll(async () => {
  await browser?.close();
  const codes = await Promise.all([portal?.stop(), api?.stop(), entry?.stop()]);
  // The services' own (redacted) logs, kept next to the screenshots for diagnosis.
  if (portal) writeFileSync(join(ARTIFACTS, 'portal.log'), portal.output());
  if (api) writeFileSync(join(ARTIFACTS, 'policy-api.log'), api.output());
  await Promise.all([azure?.stop(), nats?.dispose(), pg?.stop()]);
  rmSync(dataDir, { recursive: true, force: true });
  expect(codes).toEqual([0, 0, 0]);
});

const email = `e2e-${Date.now()}@contoso.example`;
const password = 'First-Passw0rd!';
const newPassword = 'Second-Passw0rd!';

describe('customer journey in Chromium', () => {
  it('signs up through the B2C user flow and lands on the portal signed in', async () => {
    await page.goto(`${entryUrl}/`);
    await shot('home-signed-out');
    await clickTo('#signIn', onB2c);
    await shot('b2c-sign-in');
    await clickTo('#createAccount', onB2c);
    await page.fill('#email', email);
    await page.fill('#newPassword', password);
    await page.fill('#reenterPassword', password);
    await page.fill('#givenName', 'Erin');
    await page.fill('#surname', 'Tester');
    await page.fill('#displayName', 'Erin Tester');
    await shot('b2c-sign-up');
    const before = await sessionCookie();
    expect(before).toBeDefined(); // created when sign-in started (it holds state, nonce, PKCE verifier)
    await clickTo('#continue', onPortal('/'));
    const after = await sessionCookie();
    expect(after).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(after?.value).not.toBe(before?.value); // new session id at sign-in
    expect(await text('#userName')).toBe('Erin Tester');
    await shot('home-signed-in');
  });

  it('shows the ID token claims', async () => {
    await clickTo('a[href="/claims"]', onPortal('/claims'));
    expect(await text('td[data-claim="name"]')).toBe('Erin Tester');
    expect(await text('td[data-claim="emails"]')).toBe(email);
    expect(await text('td[data-claim="tfp"]')).toMatch(/B2C_1_signupsignin/i);
    await shot('claims');
  });

  it('creates the policy on the first view', async () => {
    await clickTo('a[href="/policy"]', onPortal('/policy'));
    expect(await text('dd[data-field="policyNumber"]')).toMatch(/^PN\d{10}$/);
    expect(await count('#noBeneficiaries')).toBe(1);
    // The API created it on this read (201): the portal says so once.
    expect(await text('#policyCreated')).toContain('we created your policy');
    await page.reload();
    expect(await count('#policyCreated')).toBe(0);
    await shot('policy-created');
  });

  it('changes beneficiaries after step-up MFA (TOTP enrolment), keeping what was typed', async () => {
    await clickTo('#changeBeneficiaries', onPortal('/policy/beneficiaries'));
    await page.fill('#name1', 'Sam Tester');
    await page.selectOption('#relationship1', 'spouse');
    await page.fill('#share1', '60');
    await page.fill('#name2', 'Alex Tester');
    await page.selectOption('#relationship2', 'child');
    await page.fill('#share2', '40');
    await shot('beneficiaries-form');
    const toMfaFlow = (u: URL) => onB2c(u) && /b2c_1_signupsignin_mfa/i.test(u.pathname);
    // The API answers 401 + RFC 9470 challenge: the portal runs the MFA flow with prompt=login.
    await clickTo('#saveBeneficiaries', toMfaFlow);
    expect(await page.inputValue('#email')).toBe(email);
    await page.fill('#password', password);
    await shot('step-up-sign-in');
    await clickTo('#next', toMfaFlow);
    // Cancelling the step-up comes back to the form with what was typed, nothing saved.
    await clickTo('#cancel', onPortal('/policy/beneficiaries'));
    expect(await text('#flash')).toMatch(/not saved/);
    expect(await page.inputValue('#name1')).toBe('Sam Tester');
    expect(await page.inputValue('#relationship2')).toBe('child');
    expect(await page.inputValue('#share2')).toBe('40');
    await shot('beneficiaries-after-cancelled-step-up');
    await clickTo('#saveBeneficiaries', toMfaFlow);
    await page.fill('#password', password);
    await clickTo('#next', toMfaFlow);
    const secret = (await page.locator('#totpSecret').textContent())?.trim() ?? '';
    expect(secret).toMatch(/^[A-Z2-7]+=*$/);
    await shot('step-up-totp-enrolment');
    await page.fill('#totpCode', await generate({ secret }));
    await clickTo('#verifyTotp', onPortal('/policy'));
    expect(await text('#flash')).toMatch(/beneficiaries were updated/);
    const rows = await page.locator('#beneficiaries tbody tr').allTextContents();
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/Sam Tester\s*spouse\s*60%/);
    expect(rows[1]).toMatch(/Alex Tester\s*child\s*40%/);
    await shot('policy-after-change');
  });

  it('shows the change in the history, made with the MFA flow', async () => {
    await clickTo('a[href="/policy/history"]', onPortal('/policy/history'));
    const entries = await page.locator('#history > li').allTextContents();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatch(/b2c_1_signupsignin_mfa/i);
    expect(entries[0]).toContain('Sam Tester');
    await shot('history');
  });

  it('edits the profile and shows the new name in the claims', async () => {
    await clickTo('a[href="/auth/edit-profile"]', onB2c);
    await page.fill('#givenName', 'Erin-Marie');
    await page.fill('#displayName', 'Erin-Marie Tester');
    await shot('b2c-profile-edit');
    await clickTo('#continue', onPortal('/claims'));
    expect(await text('#flash')).toMatch(/profile was updated/);
    expect(await text('td[data-claim="name"]')).toBe('Erin-Marie Tester');
    expect(await text('td[data-claim="given_name"]')).toBe('Erin-Marie');
    await shot('claims-after-profile-edit');
  });

  it('resets the password through its user flow', async () => {
    await clickTo('a[href="/auth/reset-password"]', onB2c);
    await page.fill('#email', email);
    await clickTo('#sendCode', onB2c);
    const code = (await page.locator('#devVerificationCode').textContent())?.trim() ?? '';
    await page.fill('#verificationCode', code);
    await shot('b2c-reset-code');
    await clickTo('#verifyCode', onB2c);
    await page.fill('#newPassword', newPassword);
    await page.fill('#reenterPassword', newPassword);
    await clickTo('#continue', onPortal('/'));
    expect(await text('#flash')).toMatch(/password was changed/);
    await shot('home-after-password-reset');
  });

  it('calls the public API endpoint from the Test API page', async () => {
    await clickTo('a[href="/test-api"]', onPortal('/test-api'));
    expect(await text('#apiStatus')).toBe('200');
    await shot('test-api');
  });

  it('signs out through the user flow logout and back to the portal', async () => {
    await clickTo('#signOut', onPortal('/'));
    expect(await count('#signIn')).toBe(1);
    expect(await count('#userName')).toBe(0);
    await shot('home-after-sign-out');
    expect(await sessionCookie()).toBeUndefined();
    await page.goto(`${entryUrl}/claims`);
    await page.waitForURL(onB2c); // no session any more: sign-in again
  });

  it('signs in with the new password (the old one no longer works)', async () => {
    await page.fill('#email', email);
    await page.fill('#password', password);
    await Promise.all([page.waitForLoadState(), page.click('#next')]);
    await page.waitForSelector('#errorMessage');
    await page.fill('#password', newPassword);
    await clickTo('#next', onPortal('/claims'));
    expect(await text('td[data-claim="name"]')).toBe('Erin-Marie Tester');
    await shot('claims-after-sign-in-with-new-password');
  });
});
