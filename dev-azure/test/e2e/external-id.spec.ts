// Microsoft Entra External ID (external tenant) conformance, driven through
// @azure/msal-node (authority = the tenant on this origin, as
// https://<subdomain>.ciamlogin.com/<tenant> would be) and headless Chromium
// on the real pages: sign-up with email verification, sign-in of a user
// migrated from B2C, refresh, a claims challenge answered with an email
// one-time passcode (acrs c1, xms_cc cp1), password reset inside sign-in,
// Graph /me, sign-out, Entra-shaped errors and tenant isolation.
import {
  ConfidentialClientApplication,
  CryptoProvider,
  InteractionRequiredAuthError,
  type AccountInfo,
  type AuthenticationResult,
} from '@azure/msal-node';
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { ensureDevCa } from '../../src';
import { launchChromium } from '../support/chromium';
import { seed, startTestAzure, type TestAzure } from '../support/harness';
import { startRelyingParty, type Callback, type RelyingParty } from '../support/relying-party';

const { contoso, contosoext: ext } = seed;
const OTHER = {
  id: '1cc20bda-9253-4fd4-b3f3-762b98504dd9',
  daemon: 'e3c0f7a2-5b41-4d8e-9a6f-2c7d1b8e4f90',
  secret: 'other-ext-daemon-secret-41d9c2',
  api: '5a7e9c31-0d2b-4f68-8e1a-b3c5d7f9a1e2',
};
const API = [`${ext.policyApi.uri}/Accounts.Read`, `${ext.policyApi.uri}/Accounts.Write`];
const C1 = JSON.stringify({ access_token: { acrs: { essential: true, value: 'c1' } } });

let t: TestAzure;
let rp: RelyingParty;
let browser: Browser;
let page: Page;
let host: string;

beforeAll(async () => {
  const ca = await ensureDevCa();
  [t, rp] = await Promise.all([
    startTestAzure({
      // A second external tenant: its tokens must never pass for contosoext's.
      adjust: (cfg) => {
        cfg.tenants.push({
          name: 'otherext',
          id: OTHER.id,
          type: 'external',
          apps: [
            {
              name: 'api',
              displayName: 'Other API',
              clientId: OTHER.api,
              servicePrincipalId: randomUUID(),
              identifierUris: [`api://${OTHER.api}`],
              appRoles: [{ value: 'Read.All' }],
            },
            {
              name: 'daemon',
              displayName: 'Other daemon',
              clientId: OTHER.daemon,
              servicePrincipalId: randomUUID(),
              secrets: [{ value: OTHER.secret }],
              grantedAppRoles: [{ resource: 'api', roles: ['Read.All'] }],
            },
          ],
        });
      },
    }),
    startRelyingParty(ca),
  ]);
  host = new URL(t.azure.identityUrl).host;
  browser = await launchChromium(ca);
  page = await (await browser.newContext()).newPage();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await Promise.all([t?.stop(), rp?.stop()]);
});

/** What the portal configures: the tenant as authority (here on the stand-in's origin) and the stand-in's host as known authority. */
function msalApp(
  o: { tenant?: string; clientId?: string; secret?: string; cp1?: boolean } = {},
): ConfidentialClientApplication {
  return new ConfidentialClientApplication({
    auth: {
      clientId: o.clientId ?? ext.portal.clientId,
      clientSecret: o.secret ?? ext.portal.secret,
      authority: `${t.azure.identityUrl}/${o.tenant ?? ext.id}`,
      knownAuthorities: [host],
      clientCapabilities: o.cp1 ? ['cp1'] : [],
    },
  });
}

const issuer = (tenantId: string = ext.id) => `${t.azure.identityUrl}/${tenantId}/v2.0`;

async function jwksOf(tenantId: string) {
  const meta = (await (
    await fetch(`${t.azure.identityUrl}/${tenantId}/v2.0/.well-known/openid-configuration`)
  ).json()) as { jwks_uri: string };
  return createRemoteJWKSet(new URL(meta.jwks_uri));
}

async function verify(
  token: string,
  audience: string,
  tenantId: string = ext.id,
): Promise<JWTPayload> {
  return (await jwtVerify(token, await jwksOf(tenantId), { issuer: issuer(tenantId), audience }))
    .payload;
}

interface Started {
  url: string;
  state: string;
  nonce: string;
  verifier: string;
}

async function start(
  app: ConfidentialClientApplication,
  extra: { prompt?: string; claims?: string; scopes?: string[] } = {},
): Promise<Started> {
  const pkce = await new CryptoProvider().generatePkceCodes();
  const state = randomUUID();
  const nonce = randomUUID();
  const url = await app.getAuthCodeUrl({
    scopes: extra.scopes ?? API,
    redirectUri: rp.redirectUri,
    codeChallenge: pkce.challenge,
    codeChallengeMethod: 'S256',
    state,
    nonce,
    prompt: extra.prompt,
    claims: extra.claims,
  });
  return { url, state, nonce, verifier: pkce.verifier };
}

async function backAtApp(state: string): Promise<Callback> {
  await page.waitForURL((u) => u.toString().startsWith(rp.redirectUri), { timeout: 15_000 });
  const cb = rp.callbacks.find((c) => c.state === state);
  if (!cb) throw new Error(`no callback for state ${state}`);
  return cb;
}

/** The signed-in account of a redemption (MSAL may leave it to the cache); fails the test when there is none. */
async function accountOf(
  app: ConfidentialClientApplication,
  result: AuthenticationResult,
): Promise<AccountInfo> {
  const account = result.account ?? (await app.getTokenCache().getAllAccounts())[0];
  if (!account) throw new Error('no account after the redemption');
  return account;
}

async function redeem(
  app: ConfidentialClientApplication,
  s: Started,
  cb: Callback,
  o: { claims?: string; scopes?: string[] } = {},
): Promise<AuthenticationResult> {
  return app.acquireTokenByCode({
    code: cb.code ?? '',
    scopes: o.scopes ?? API,
    redirectUri: rp.redirectUri,
    codeVerifier: s.verifier,
    state: s.state,
    nonce: s.nonce,
    claims: o.claims,
  });
}

async function heading(): Promise<string | null> {
  return page.locator('h1').textContent();
}

/** Reads the newest code for `to` from the development mailbox page, in its own tab. */
async function codeFromMailbox(to: string): Promise<string> {
  const mailbox = await page.context().newPage();
  await mailbox.goto(`${t.azure.identityUrl}/_dev/mailbox?${new URLSearchParams({ to })}`);
  const code = ((await mailbox.locator('#messages .code').first().textContent()) ?? '').trim();
  await mailbox.close();
  expect(code).toMatch(/^\d{8}$/);
  return code;
}

async function signInWithPassword(
  app: ConfidentialClientApplication,
  email: string,
  password: string,
  extra: { prompt?: string } = {},
) {
  const s = await start(app, extra);
  await page.goto(s.url);
  expect(await heading()).toBe('Sign in');
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.click('#next');
  return { s, cb: await backAtApp(s.state) };
}

describe('External ID tenant through MSAL Node and Chromium', () => {
  const dana = {
    email: `dana.${Date.now()}@contoso.example`,
    password: 'Dana-ext-Passw0rd!',
    newPassword: 'Dana-ext-Reset-Passw0rd!',
  };

  it('publishes Entra v2.0 metadata under the tenant id and its onmicrosoft.com / subdomain aliases', async () => {
    for (const segment of [ext.id, 'contosoext.onmicrosoft.com', 'contosoext']) {
      const res = await fetch(
        `${t.azure.identityUrl}/${segment}/v2.0/.well-known/openid-configuration`,
      );
      expect(res.status).toBe(200);
      const meta = (await res.json()) as Record<string, unknown>;
      expect(meta).toMatchObject({
        issuer: issuer(),
        authorization_endpoint: `${t.azure.identityUrl}/${ext.id}/oauth2/v2.0/authorize`,
        token_endpoint: `${t.azure.identityUrl}/${ext.id}/oauth2/v2.0/token`,
        end_session_endpoint: `${t.azure.identityUrl}/${ext.id}/oauth2/v2.0/logout`,
        jwks_uri: `${t.azure.identityUrl}/${ext.id}/discovery/v2.0/keys`,
      });
      expect(meta.claims_supported).toEqual(
        expect.arrayContaining(['acrs', 'xms_cc', 'extn.legacyB2cObjectId']),
      );
    }
  });

  it('signs a new customer up (email verified with a mailed code) and issues v2.0 tokens without tfp', async () => {
    const app = msalApp();
    const s = await start(app);
    await page.goto(s.url);
    await page.click('#createAccount');
    await page.fill('#email', dana.email);
    await page.fill('#newPassword', dana.password);
    await page.fill('#reenterPassword', dana.password);
    await page.fill('#givenName', 'Dana');
    await page.fill('#surname', 'External');
    await page.fill('#displayName', 'Dana External');
    await page.click('#continue');
    expect(await heading()).toBe('Verify your email');
    expect(t.azure.identity.findUser(dana.email, { tenant: 'contosoext' })).toBeUndefined(); // not before the email is proven
    await page.fill('#verificationCode', '00000000');
    await page.click('#verifyCode');
    await expect(page.locator('#errorMessage').textContent()).resolves.toContain('incorrect');
    await page.fill('#verificationCode', await codeFromMailbox(dana.email));
    await page.click('#verifyCode');
    const result = await redeem(app, s, await backAtApp(s.state));

    const oid = t.azure.identity.findUser(dana.email, { tenant: 'contosoext' })?.oid ?? '';
    expect(result.account?.homeAccountId).toBe(`${oid}.${ext.id}`);
    const access = await verify(result.accessToken, ext.policyApi.clientId);
    expect(access).toMatchObject({
      ver: '2.0',
      tid: ext.id,
      oid,
      azp: ext.portal.clientId,
      azpacr: '1',
      scp: 'Accounts.Read Accounts.Write',
      name: 'Dana External',
      preferred_username: dana.email,
    });
    expect(typeof access.auth_time).toBe('number'); // policy-api asks for auth_time as an optional claim
    for (const absent of ['tfp', 'acr', 'acrs', 'xms_cc', 'emails', 'extn.legacyB2cObjectId'])
      expect(access[absent]).toBeUndefined();
    expect(access.sub).not.toBe(oid); // pairwise
    const id = await verify(result.idToken, ext.portal.clientId);
    expect(id).toMatchObject({
      nonce: s.nonce,
      given_name: 'Dana',
      family_name: 'External',
      email: dana.email,
      oid,
    });
    expect(id.sub).not.toBe(access.sub);
  });

  it('signs in a user migrated from B2C: new object id, the B2C object id in extn.legacyB2cObjectId', async () => {
    const app = msalApp();
    await page.context().clearCookies();
    const { s, cb } = await signInWithPassword(app, ext.alice.email, ext.alice.password);
    const result = await redeem(app, s, cb);
    const access = await verify(result.accessToken, ext.policyApi.clientId);
    expect(access.oid).toBe(ext.alice.oid);
    expect(access['extn.legacyB2cObjectId']).toBe(contoso.alice.oid);
    expect((await verify(result.idToken, ext.portal.clientId))['extn.legacyB2cObjectId']).toBe(
      contoso.alice.oid,
    );
  });

  it('refreshes silently, and the same refresh token gets a Microsoft Graph token', async () => {
    const app = msalApp();
    await page.context().clearCookies();
    const { s, cb } = await signInWithPassword(app, ext.carol.email, ext.carol.password);
    const first = await redeem(app, s, cb);
    const account = await accountOf(app, first);
    const again = await app.acquireTokenSilent({ account, scopes: API, forceRefresh: true });
    expect(again.accessToken).not.toBe(first.accessToken);
    expect((await verify(again.accessToken, ext.policyApi.clientId)).oid).toBe(ext.carol.oid);
    const graph = await app.acquireTokenSilent({ account, scopes: ['User.Read'] });
    expect(await verify(graph.accessToken, '00000003-0000-0000-c000-000000000000')).toMatchObject({
      scp: 'User.Read',
      oid: ext.carol.oid,
    });
  });

  it('answers a claims challenge for authentication context c1 with an email one-time passcode: acrs ["c1"] and xms_cc ["cp1"]', async () => {
    const app = msalApp({ cp1: true });
    await page.context().clearCookies();
    const { s, cb } = await signInWithPassword(app, ext.alice.email, ext.alice.password);
    const plain = await redeem(app, s, cb);
    const before = await verify(plain.accessToken, ext.policyApi.clientId);
    expect(before.acrs).toBeUndefined();
    expect(before.xms_cc).toEqual(['cp1']); // the client declared cp1; policy-api asks for xms_cc

    // The API's challenge, replayed silently: the grant never did a second factor.
    const account = await accountOf(app, plain);
    const silent = await app.acquireTokenSilent({ account, scopes: API, claims: C1 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(silent).toBeInstanceOf(InteractionRequiredAuthError);
    expect((silent as InteractionRequiredAuthError).errorMessage).toMatch(/AADSTS50076/);
    expect(JSON.parse((silent as InteractionRequiredAuthError).claims)).toMatchObject({
      access_token: { acrs: { essential: true } },
    });

    // Interactive with the claims parameter: the session skips the password, Conditional Access asks for the code.
    await new Promise((r) => setTimeout(r, 1100));
    const step = await start(app, { claims: C1 });
    expect(JSON.parse(new URL(step.url).searchParams.get('claims') ?? '{}')).toMatchObject({
      access_token: { acrs: { value: 'c1' }, xms_cc: { values: ['cp1'] } },
    });
    await page.goto(step.url);
    expect(await heading()).toBe('Verify your identity');
    await expect(page.locator('#codeSentTo').textContent()).resolves.toBe(ext.alice.email);
    const code = t.azure.identity.lastMailedCode(ext.alice.email, {
      tenant: 'contosoext',
      purpose: 'mfa',
    });
    expect(code).toBe(await codeFromMailbox(ext.alice.email));
    await page.fill('#verificationCode', code ?? '');
    await page.click('#verifyCode');
    const stepped = await redeem(app, step, await backAtApp(step.state), { claims: C1 });
    const after = await verify(stepped.accessToken, ext.policyApi.clientId);
    expect(after.acrs).toEqual(['c1']);
    expect(after.xms_cc).toEqual(['cp1']);
    expect(after.auth_time as number).toBeGreaterThan(before.auth_time as number);

    // Now the grant has the second factor: the challenge is answered silently too.
    const refreshed = await app.acquireTokenSilent({
      account: stepped.account ?? account,
      scopes: API,
      claims: C1,
    });
    expect((await verify(refreshed.accessToken, ext.policyApi.clientId)).acrs).toEqual(['c1']);
  });

  it('offers SMS instead of email to a user with a phone, when the tenant enables it', async () => {
    const app = msalApp();
    await page.context().clearCookies();
    const s = await start(app, { claims: C1 });
    await page.goto(s.url);
    await page.fill('#email', ext.carol.email);
    await page.fill('#password', ext.carol.password);
    await page.click('#next');
    expect(await heading()).toBe('Verify your identity');
    await page.click('#otherMethod');
    await expect(page.locator('#codeSentTo').textContent()).resolves.toBe(ext.carol.phone);
    await page.fill('#verificationCode', await codeFromMailbox(ext.carol.phone));
    await page.click('#verifyCode');
    const result = await redeem(app, s, await backAtApp(s.state), { claims: C1 });
    expect((await verify(result.accessToken, ext.policyApi.clientId)).acrs).toEqual(['c1']);
  });

  it('resets a forgotten password inside the sign-in experience and comes back signed in', async () => {
    const app = msalApp();
    await page.context().clearCookies();
    const s = await start(app);
    await page.goto(s.url);
    await page.click('#forgotPassword');
    expect(await heading()).toBe('Reset your password');
    await page.fill('#email', dana.email);
    await page.click('#sendCode');
    expect(await heading()).toBe('Verify your email');
    await page.fill(
      '#verificationCode',
      t.azure.identity.lastMailedCode(dana.email, { purpose: 'passwordReset' }) ?? '',
    );
    await page.click('#verifyCode');
    expect(await heading()).toBe('Choose a new password');
    await page.fill('#newPassword', dana.newPassword);
    await page.fill('#reenterPassword', dana.newPassword);
    await page.click('#continue');
    const cb = await backAtApp(s.state);
    expect(cb.error).toBeUndefined(); // no AADB2C90118 round trip
    expect(
      (await verify((await redeem(app, s, cb)).accessToken, ext.policyApi.clientId))
        .preferred_username,
    ).toBe(dana.email);

    // The old password is refused, the new one works.
    const again = await start(app, { prompt: 'login' });
    await page.goto(again.url);
    await page.fill('#email', dana.email);
    await page.fill('#password', dana.password);
    await page.click('#next');
    await expect(page.locator('#errorMessage').textContent()).resolves.toContain('incorrect');
    await page.fill('#password', dana.newPassword);
    await page.click('#next');
    expect((await backAtApp(again.state)).code).toBeTruthy();
  });

  it('edits the profile through Graph /v1.0/me; later tokens carry the new names', async () => {
    const app = msalApp();
    await page.context().clearCookies();
    const { s, cb } = await signInWithPassword(app, ext.carol.email, ext.carol.password);
    const signedIn = await redeem(app, s, cb);
    const account = await accountOf(app, signedIn);
    const me = `${t.azure.identityUrl}/v1.0/me`;

    const anonymous = await fetch(me);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain('Bearer');
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe(
      'InvalidAuthenticationToken',
    );
    const wrongAudience = await fetch(me, {
      headers: { authorization: `Bearer ${signedIn.accessToken}` },
    });
    expect(wrongAudience.status).toBe(401);

    const readOnly = (await app.acquireTokenSilent({ account, scopes: ['User.Read'] })).accessToken;
    const denied = await fetch(me, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${readOnly}`, 'content-type': 'application/json' },
      body: '{"givenName":"X"}',
    });
    expect(denied.status).toBe(403);
    expect(
      ((await denied.json()) as { error: { code: string; innerError: Record<string, string> } })
        .error,
    ).toMatchObject({
      code: 'Authorization_RequestDenied',
      innerError: { 'request-id': expect.any(String), date: expect.any(String) },
    });

    const write = (await app.acquireTokenSilent({ account, scopes: ['User.ReadWrite'] }))
      .accessToken;
    const headers = { authorization: `Bearer ${write}`, 'content-type': 'application/json' };
    const readOnlyField = await fetch(me, {
      method: 'PATCH',
      headers,
      body: JSON.stringify({ mail: 'x@y.example' }),
    });
    expect(readOnlyField.status).toBe(400);
    const patched = await fetch(me, {
      method: 'PATCH',
      headers,
      body: JSON.stringify({ givenName: 'Caroline', displayName: 'Caroline Newcomer' }),
    });
    expect(patched.status).toBe(204);
    const read = (await (await fetch(me, { headers })).json()) as Record<string, unknown>;
    expect(read).toMatchObject({
      id: ext.carol.oid,
      givenName: 'Caroline',
      surname: 'Newcomer',
      displayName: 'Caroline Newcomer',
      mail: ext.carol.email,
    });

    const fresh = await app.acquireTokenSilent({ account, scopes: API, forceRefresh: true });
    expect(decodeJwt(fresh.idToken)).toMatchObject({
      given_name: 'Caroline',
      name: 'Caroline Newcomer',
    });
    expect(decodeJwt(fresh.accessToken).name).toBe('Caroline Newcomer');
  });

  it('signs out at the end_session_endpoint and returns to the registered post_logout_redirect_uri', async () => {
    const app = msalApp();
    await page.context().clearCookies();
    const { s, cb } = await signInWithPassword(app, ext.alice.email, ext.alice.password);
    const result = await redeem(app, s, cb);
    const sso = await start(app);
    await page.goto(sso.url);
    expect((await backAtApp(sso.state)).code).toBeTruthy(); // the session answers without a page

    const meta = (await (
      await fetch(`${t.azure.identityUrl}/${ext.id}/v2.0/.well-known/openid-configuration`)
    ).json()) as { end_session_endpoint: string };
    await page.goto(
      `${meta.end_session_endpoint}?${new URLSearchParams({ id_token_hint: result.idToken, post_logout_redirect_uri: rp.redirectUri, state: 'bye' })}`,
    );
    await page.waitForURL((u) => u.toString().startsWith(rp.redirectUri));
    expect(rp.callbacks.some((c) => c.state === 'bye')).toBe(true);
    const after = await start(app);
    await page.goto(after.url);
    expect(await heading()).toBe('Sign in');
  });

  it('answers in Entra’s error shape: bad client secret, bad code, unknown tenant', async () => {
    const bad = msalApp({ secret: 'not-the-portal-secret-0000' });
    const s = await start(msalApp());
    await page.goto(s.url);
    await page.fill('#email', ext.alice.email);
    await page.fill('#password', ext.alice.password);
    await page.click('#next');
    const cb = await backAtApp(s.state);
    const secretError = await redeem(bad, s, cb).then(
      () => undefined,
      (e: { errorCode?: string; errorMessage?: string }) => e,
    );
    expect(secretError?.errorCode).toBe('invalid_client');
    expect(secretError?.errorMessage).toMatch(/AADSTS7000215/);

    const codeError = await redeem(msalApp(), s, { code: 'not-a-code' }).then(
      () => undefined,
      (e: { errorCode?: string; errorMessage?: string }) => e,
    );
    expect(codeError?.errorCode).toBe('invalid_grant');
    expect(codeError?.errorMessage).toMatch(/AADSTS70000/);

    const unknownTenant = await msalApp({ tenant: 'ffffffff-0000-4000-8000-000000000000' })
      .acquireTokenByClientCredential({ scopes: [`${ext.policyApi.uri}/.default`] })
      .then(
        () => undefined,
        (e: { errorCode?: string }) => e,
      );
    expect(unknownTenant?.errorCode).toBe('endpoints_resolution_error');
    const raw = await fetch(
      `${t.azure.identityUrl}/ffffffff-0000-4000-8000-000000000000/oauth2/v2.0/token`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'client-request-id': '0b7a7d0e-5a4c-4f3e-9d1c-2b8e6f4a1c3d',
        },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: ext.portal.clientId,
        }).toString(),
      },
    );
    expect(raw.status).toBe(400);
    expect(await raw.json()).toMatchObject({
      error: 'invalid_request',
      error_codes: [90002],
      error_description: expect.stringMatching(
        /^AADSTS90002: Tenant 'ffffffff-0000-4000-8000-000000000000' not found/,
      ),
      trace_id: expect.any(String),
      correlation_id: '0b7a7d0e-5a4c-4f3e-9d1c-2b8e6f4a1c3d',
      timestamp: expect.any(String),
    });
  });

  it('gives each external tenant its own issuer and keys: another tenant’s token does not verify as contosoext’s', async () => {
    const other = await msalApp({
      tenant: OTHER.id,
      clientId: OTHER.daemon,
      secret: OTHER.secret,
    }).acquireTokenByClientCredential({ scopes: [`api://${OTHER.api}/.default`] });
    const otherToken = other?.accessToken ?? '';
    expect(await verify(otherToken, OTHER.api, OTHER.id)).toMatchObject({
      iss: issuer(OTHER.id),
      tid: OTHER.id,
      roles: ['Read.All'],
    });
    expect(issuer(OTHER.id)).not.toBe(issuer());
    await expect(
      jwtVerify(otherToken, await jwksOf(ext.id), { issuer: issuer(), audience: OTHER.api }),
    ).rejects.toThrow();
  });
});
