// The customer journey in headless Chromium on Microsoft Entra External ID (the
// contosoext tenant of dev-azure), through the local HTTPS entry point: sign up
// with an emailed code, claims, first policy view, profile edit through Graph,
// password reset from the menu (inside sign-in), beneficiaries only after
// step-up (claims challenge for authentication context c1 answered with an email
// one-time passcode), history, sign out. policy-api trusts B2C and External ID
// (migration window). Built dist/main.js of policy-api and the portal are run.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startDevAzure, type DevAzure } from '@idp/dev-azure';
import { freePort, startNats, startNode, startPostgres, waitForHttp, type RunningProcess, type TestNatsServer, type TestPostgres } from '@idp/testing';
import { chromium, type Browser, type Page } from 'playwright-core';
import { EXTERNAL_ID, externalIdPortalEnv } from './support/portal-env';

jest.setTimeout(240_000);

const ARTIFACTS = join(__dirname, '..', 'artifacts', 'e2e', 'external-id');
const PORTAL_ENTRY = join(__dirname, '..', 'dist', 'main.js');
const POLICY_API_ENTRY = join(__dirname, '..', '..', 'policy-api', 'dist', 'main.js');
const ENTRY_PROXY = join(__dirname, '..', '..', '..', 'scripts', 'entry-proxy.mjs');
const B2C_POLICY_API_CLIENT_ID = '1d5a0a76-3f56-4b6a-a5fa-4dc21dbc0c05';
const B2C_PORTAL_CLIENT_ID = 'ee83192a-329f-477d-922a-8241a2c16afb';
// Migrated from B2C: a new object id in contosoext, her B2C object id in extn.legacyB2cObjectId.
const ALICE = { email: 'alice@contoso.example', password: 'Alice-ext-Passw0rd!' };
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

let pg: TestPostgres;
let nats: TestNatsServer;
let azure: DevAzure;
let dataDir: string;
let entryUrl: string;
let entry: RunningProcess;
let api: RunningProcess;
let apiUrl: string;
let portal: RunningProcess;
let browser: Browser;
let page: Page;
let shotNo = 0;

async function shot(name: string): Promise<void> {
  shotNo += 1;
  await page.screenshot({ path: join(ARTIFACTS, `${String(shotNo).padStart(2, '0')}-${name}.png`), fullPage: true });
}

async function clickTo(selector: string, url: RegExp | ((u: URL) => boolean)): Promise<void> {
  await Promise.all([page.waitForURL(url), page.click(selector)]);
}

const text = async (selector: string): Promise<string> => ((await page.locator(selector).first().textContent()) ?? '').trim();
const count = (selector: string): Promise<number> => page.locator(selector).count();
const heading = () => text('h1');
const sessionCookie = async () => (await page.context().cookies(entryUrl)).find((c) => c.name === '__Host-portal_sid');

const onPortal = (path: string) => (u: URL) => u.origin === entryUrl && u.pathname === path;
const onIdp = (u: URL) => u.origin === azure.identityUrl;

/** The newest code mailed to `to` for `purpose`, from the stand-in's test API. */
function mailedCode(to: string, purpose?: 'mfa' | 'passwordReset'): string {
  const code = azure.identity.lastMailedCode(to, { tenant: 'contosoext', ...(purpose ? { purpose } : {}) }) ?? '';
  expect(code).toMatch(/^\d{8}$/);
  return code;
}

beforeAll(async () => {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), 'portal-e2e-ext-'));
  [pg, nats, azure] = await Promise.all([startPostgres(), startNats(), startDevAzure({ dataDir, keyVault: false })]);
  const b2cFlow = (flow: string) => `${azure.identityUrl}/contoso.onmicrosoft.com/${flow}/v2.0/.well-known/openid-configuration`;
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
    // Migration window: B2C and External ID tokens both accepted.
    B2C_IDENTITY_METADATA: [b2cFlow('b2c_1_signupsignin'), b2cFlow('b2c_1_signupsignin_mfa')].join(','),
    API_AUDIENCE: B2C_POLICY_API_CLIENT_ID,
    EXTERNAL_ID_TENANT_ID: EXTERNAL_ID.tenantId,
    EXTERNAL_ID_METADATA: `${azure.identityUrl}/${EXTERNAL_ID.tenantId}/v2.0/.well-known/openid-configuration`,
    EXTERNAL_ID_AUDIENCE: EXTERNAL_ID.apiClientId,
    LEGACY_OBJECT_ID_CLAIM: 'extn.legacyB2cObjectId',
    STEP_UP_AUTH_CONTEXT: 'c1',
  });
  portal = startNode(PORTAL_ENTRY, {
    ...externalIdPortalEnv({ publicBaseUrl: entryUrl, identityUrl: azure.identityUrl, policyApiUrl: `http://127.0.0.1:${apiPort}` }),
    PORT: String(portalPort),
    LOG_LEVEL: 'info',
    NATS_URL: nats.url,
    DATABASE_URL: await pg.createDatabase(),
    MIGRATE_ON_START: 'true',
  });
  apiUrl = `http://127.0.0.1:${apiPort}`;
  await Promise.all([
    waitForHttp(`http://127.0.0.1:${apiPort}/readyz`, { proc: api }),
    waitForHttp(`http://127.0.0.1:${portalPort}/readyz`, { proc: portal }),
    waitForHttp(`https://127.0.0.1:${entryPort}/healthz`, { proc: entry }),
  ]);
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1100, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
});

afterAll(async () => {
  await browser?.close();
  const codes = await Promise.all([portal?.stop(), api?.stop(), entry?.stop()]);
  if (portal) writeFileSync(join(ARTIFACTS, 'portal.log'), portal.output());
  if (api) writeFileSync(join(ARTIFACTS, 'policy-api.log'), api.output());
  await Promise.all([azure?.stop(), nats?.dispose(), pg?.stop()]);
  rmSync(dataDir, { recursive: true, force: true });
  expect(codes).toEqual([0, 0, 0]);
});

const email = `e2e-ext-${Date.now()}@contoso.example`;
const password = 'First-Ext-Passw0rd!';
const newPassword = 'Second-Ext-Passw0rd!';

describe('customer journey in Chromium on External ID', () => {
  it('signs up (email verified with a mailed code) and lands on the portal signed in', async () => {
    await page.goto(`${entryUrl}/`);
    await clickTo('#signIn', onIdp);
    expect(await heading()).toBe('Sign in');
    await shot('external-id-sign-in');
    await clickTo('#createAccount', onIdp);
    await page.fill('#email', email);
    await page.fill('#newPassword', password);
    await page.fill('#reenterPassword', password);
    await page.fill('#givenName', 'Erin');
    await page.fill('#surname', 'External');
    await page.fill('#displayName', 'Erin External');
    await shot('external-id-sign-up');
    await clickTo('#continue', onIdp);
    expect(await heading()).toBe('Verify your email');
    await page.fill('#verificationCode', mailedCode(email));
    await shot('external-id-verify-email');
    const before = await sessionCookie();
    await clickTo('#verifyCode', onPortal('/'));
    const after = await sessionCookie();
    expect(after).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(after?.value).not.toBe(before?.value);
    expect(await text('#userName')).toBe('Erin External');
    await shot('home-signed-in');
  });

  it('shows the ID token claims (External ID: email and tid, no tfp)', async () => {
    await clickTo('a[href="/claims"]', onPortal('/claims'));
    expect(await text('td[data-claim="name"]')).toBe('Erin External');
    expect(await text('td[data-claim="email"]')).toBe(email);
    expect(await text('td[data-claim="tid"]')).toBe(EXTERNAL_ID.tenantId);
    expect(await count('td[data-claim="tfp"]')).toBe(0);
    await shot('claims');
  });

  it('creates the policy on the first view', async () => {
    await clickTo('a[href="/policy"]', onPortal('/policy'));
    expect(await text('dd[data-field="policyNumber"]')).toMatch(/^PN\d{10}$/);
    expect(await count('#noBeneficiaries')).toBe(1);
    expect(await text('#policyCreated')).toContain('we created your policy');
    await page.reload();
    expect(await count('#policyCreated')).toBe(0);
    await shot('policy-created');
  });

  it('edits the profile through Microsoft Graph and shows the renewed claims', async () => {
    await clickTo('a[href="/auth/edit-profile"]', onPortal('/profile'));
    expect(await page.inputValue('#givenName')).toBe('Erin');
    await page.fill('#givenName', 'Erin-Marie');
    await page.fill('#displayName', 'Erin-Marie External');
    await shot('profile-edit-form');
    await clickTo('#saveProfile', onPortal('/claims'));
    expect(await text('#flash')).toMatch(/profile was updated/);
    expect(await text('td[data-claim="name"]')).toBe('Erin-Marie External');
    expect(await text('td[data-claim="given_name"]')).toBe('Erin-Marie');
    expect(azure.identity.findUser(email, { tenant: 'contosoext' })?.givenName).toBe('Erin-Marie');
    await shot('claims-after-profile-edit');
  });

  it('resets the password from the menu (inside the sign-in experience)', async () => {
    await clickTo('a[href="/auth/reset-password"]', onIdp);
    expect(await heading()).toBe('Sign in'); // prompt=login
    await clickTo('#forgotPassword', onIdp);
    expect(await heading()).toBe('Reset your password');
    await page.fill('#email', email);
    await clickTo('#sendCode', onIdp);
    await page.fill('#verificationCode', mailedCode(email, 'passwordReset'));
    await shot('external-id-reset-code');
    await clickTo('#verifyCode', onIdp);
    expect(await heading()).toBe('Choose a new password');
    await page.fill('#newPassword', newPassword);
    await page.fill('#reenterPassword', newPassword);
    await clickTo('#continue', onPortal('/'));
    expect(await text('#flash')).toMatch(/signed in again/i);
    expect(await text('#userName')).toBe('Erin-Marie External');
    await shot('home-after-password-reset');
  });

  it('changes beneficiaries only after step-up (claims challenge, email one-time passcode), keeping what was typed', async () => {
    await clickTo('a[href="/policy/beneficiaries"]', onPortal('/policy/beneficiaries'));
    await page.fill('#name1', 'Sam Tester');
    await page.selectOption('#relationship1', 'spouse');
    await page.fill('#share1', '60');
    await page.fill('#name2', 'Alex Tester');
    await page.selectOption('#relationship2', 'child');
    await page.fill('#share2', '40');
    await shot('beneficiaries-form');
    // policy-api answers 401 + claims challenge: the portal re-authorizes with claims (acrs c1) and prompt=login.
    const authorizeRequest = page.waitForRequest((r) => r.url().includes('/oauth2/v2.0/authorize'));
    await clickTo('#saveBeneficiaries', onIdp);
    const authorize = new URL((await authorizeRequest).url());
    expect(JSON.parse(authorize.searchParams.get('claims') ?? '{}')).toMatchObject({ access_token: { acrs: { essential: true, value: 'c1' }, xms_cc: { values: ['cp1'] } } });
    expect(authorize.searchParams.get('prompt')).toBe('login');
    expect(await heading()).toBe('Sign in');
    await page.fill('#password', newPassword);
    await clickTo('#next', onIdp);
    expect(await heading()).toBe('Verify your identity');
    expect(await text('#codeSentTo')).toBe(email);
    await shot('step-up-one-time-passcode');
    // Cancel: back to the form with the typed values; nothing saved.
    await clickTo('#cancel', onPortal('/policy/beneficiaries'));
    expect(await text('#flash')).toMatch(/not saved/);
    expect(await page.inputValue('#name1')).toBe('Sam Tester');
    expect(await page.inputValue('#share2')).toBe('40');
    await shot('beneficiaries-after-cancelled-step-up');

    await clickTo('#saveBeneficiaries', onIdp);
    await page.fill('#password', newPassword);
    await clickTo('#next', onIdp);
    await page.fill('#verificationCode', mailedCode(email, 'mfa'));
    await clickTo('#verifyCode', onPortal('/policy'));
    expect(await text('#flash')).toMatch(/beneficiaries were updated/);
    const rows = await page.locator('#beneficiaries tbody tr').allTextContents();
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/Sam Tester\s*spouse\s*60%/);
    expect(rows[1]).toMatch(/Alex Tester\s*child\s*40%/);
    await shot('policy-after-change');
  });

  it('shows the change in the history, made with authentication context c1', async () => {
    await clickTo('a[href="/policy/history"]', onPortal('/policy/history'));
    const entries = await page.locator('#history > li').allTextContents();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toContain('acrs:c1');
    expect(entries[0]).toContain('Sam Tester');
    await shot('history');
  });

  it('signs out at the end_session_endpoint and back to the portal', async () => {
    await clickTo('#signOut', onPortal('/'));
    expect(await count('#signIn')).toBe(1);
    expect(await sessionCookie()).toBeUndefined();
    await shot('home-after-sign-out');
    await page.goto(`${entryUrl}/claims`);
    await page.waitForURL(onIdp);
    expect(await heading()).toBe('Sign in'); // the tenant session ended too
  });

  it('signs in with the new password', async () => {
    await page.fill('#email', email);
    await page.fill('#password', newPassword);
    await clickTo('#next', onPortal('/claims'));
    expect(await text('td[data-claim="name"]')).toBe('Erin-Marie External');
    await shot('claims-after-sign-in-with-new-password');
  });

  it('shows a user migrated from B2C the policy she had on B2C', async () => {
    // Alice's policy as B2C knows it (created on her first B2C read), before she ever signs in on External ID.
    const b2cToken = await azure.identity.issueUserAccessToken({
      tenant: 'contoso',
      flow: 'B2C_1_signupsignin',
      userEmail: ALICE.email,
      clientId: B2C_PORTAL_CLIENT_ID,
      scopes: ['https://contoso.onmicrosoft.com/policy-api/Accounts.Read'],
    });
    const b2cPolicy = (await (await fetch(`${apiUrl}/policies/me`, { headers: { authorization: `Bearer ${b2cToken}` } })).json()) as { policyNumber: string };
    expect(b2cPolicy.policyNumber).toMatch(/^PN\d{10}$/);

    await clickTo('#signOut', onPortal('/'));
    await clickTo('#signIn', onIdp);
    await page.fill('#email', ALICE.email);
    await page.fill('#password', ALICE.password);
    await clickTo('#next', onPortal('/'));
    await clickTo('a[href="/policy"]', onPortal('/policy'));
    expect(await text('dd[data-field="policyNumber"]')).toBe(b2cPolicy.policyNumber);
    expect(await count('#policyCreated')).toBe(0); // hers, not a new one
    await shot('migrated-user-policy');
  });
});
