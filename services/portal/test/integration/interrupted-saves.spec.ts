// A beneficiary change interrupted on its way (B2C stand-in, a recording policy API that wants the
// MFA flow for writes): a refresh token refused at save time sends the user to sign in again and
// brings the form back with what was typed, for that user only, still validated and still behind
// step-up; sign-in navigations another site forces cannot push out a pending step-up, nor the
// sign-in that holds typed rows.
import { generate } from 'otplib';
import {
  expectPage,
  expectRedirect,
  HttpBrowser,
  textById,
} from '../../../../dev-azure/test/support/http-browser';
import { MAX_PENDING } from '../../src/session/session-data';
import { SessionStore } from '../../src/session/session-store';
import { B2C_ALICE } from '../support/b2c-sign-in';
import { cookieJarClient } from '../support/portal-client';
import { portalEnv } from '../support/portal-env';
import { usePortalStack } from '../support/portal-stack';
import { flowOf, MFA_FLOW, startRecordingApi } from '../support/recording-api';
import { ageCache, expireAccessTokens, revokeRefreshTokens } from '../support/token-cache';

const BOB = { email: 'bob@contoso.example', password: 'Bob-dev-Passw0rd!' };

const stack = usePortalStack({
  startApi: () =>
    startRecordingApi({
      policy: { policyNumber: 'PN0000000021' },
      record: (claims, _token, req) => ({ flow: flowOf(claims), ifMatch: req.headers['if-match'] }),
      gate: (claims) =>
        flowOf(claims) === MFA_FLOW
          ? undefined
          : {
              wwwAuthenticate: `Bearer error="insufficient_user_authentication", acr_values="${MFA_FLOW}", max_age=600`,
            },
      checkIfMatch: true,
    }),
  env: (identityUrl, apiUrl) => portalEnv({ b2cHost: identityUrl, policyApiUrl: apiUrl }),
});
const jar = cookieJarClient(() => stack.portal);
const store = () => stack.portal.app.get(SessionStore);
const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
const etagOf = (html: string) =>
  (/name="etag" value="([^"]*)"/.exec(html)?.[1] ?? '').replace(/&quot;/g, '"');
const puts = () => stack.api.calls.filter((c) => c.method === 'PUT');

/** Signs in at an authorize URL with a fresh browser; returns where the portal sends the user. */
async function signInAt(authorize: string | URL, who = B2C_ALICE): Promise<string> {
  const b2c = new HttpBrowser(stack.azure.identityUrl);
  const page = expectPage(await b2c.open(String(authorize)));
  const back = expectRedirect(await b2c.submit(page, who));
  const res = await jar.get(`${back.pathname}${back.search}`);
  expect(res.statusCode).toBe(303);
  return String(res.headers.location);
}

/** Posts the form as shown with `rows` typed into it. */
async function save(rows: Record<string, string>) {
  const form = await jar.get('/policy/beneficiaries');
  expect(form.statusCode).toBe(200);
  return jar.post('/policy/beneficiaries', {
    _csrf: csrfOf(form.body),
    etag: etagOf(form.body),
    ...rows,
  });
}

/** Alice's authenticator, enrolled at her first step-up (first test). */
let totpSecret = '';

/** Another device's change, made with the step-up (the stand-in trusts the token's claims). */
async function saveElsewhere(ifMatch: string, name: string): Promise<void> {
  const token = `x.${Buffer.from(JSON.stringify({ tfp: MFA_FLOW })).toString('base64url')}.x`;
  const r = await fetch(`${stack.api.url}/policies/me/beneficiaries`, {
    method: 'PUT',
    headers: {
      authorization: `Bearer ${token}`,
      'if-match': ifMatch,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ beneficiaries: [{ name, relationship: 'spouse', sharePercent: 100 }] }),
  });
  expect(r.status).toBe(200);
}

const pendingOf = async () => Object.values((await store().load(jar.cookie()))!.data.pending);

beforeAll(async () => {
  expect(await signInAt(String((await jar.get('/auth/sign-in')).headers.location))).toBe('/');
});

it('sign-in navigations forced by another site do not push out a pending step-up, and both budgets stay bounded', async () => {
  const res = await save({ name1: 'Kept Through', relationship1: 'child', share1: '100' });
  const authorize = new URL(String(res.headers.location));
  expect(authorize.pathname).toMatch(/b2c_1_signupsignin_mfa/i);
  // A hostile page navigates the browser to /auth/sign-in (and the other GET flows) again and again.
  for (let i = 0; i < 3 * MAX_PENDING; i += 1)
    for (const path of ['/auth/sign-in', '/auth/edit-profile', '/auth/reset-password'])
      expect((await jar.get(path)).statusCode).toBe(302);
  let pending = await pendingOf();
  expect(pending.filter((p) => p.purpose === 'stepup')).toHaveLength(1);
  expect(pending.filter((p) => p.purpose !== 'stepup')).toHaveLength(MAX_PENDING);

  // The verification still completes the change typed for it.
  const b2c = new HttpBrowser(stack.azure.identityUrl);
  const signIn = expectPage(await b2c.open(authorize.toString()));
  const enrol = expectPage(await b2c.submit(signIn, B2C_ALICE));
  const secret = textById(enrol.html, 'totpSecret')!;
  totpSecret = secret;
  const back = expectRedirect(
    await b2c.submit(enrol, { totpCode: await generate({ secret }) }, 'totpForm'),
  );
  const done = await jar.get(`${back.pathname}${back.search}`);
  expect(done.headers.location).toBe('/policy');
  expect(puts().at(-1)).toMatchObject({
    flow: MFA_FLOW,
    body: { beneficiaries: [{ name: 'Kept Through', relationship: 'child', sharePercent: 100 }] },
  });

  // Step-ups have their own budget, bounded the same way.
  for (let i = 0; i < MAX_PENDING + 2; i += 1)
    await save({ name1: `Save ${i}`, relationship1: 'child', share1: '100' });
  pending = await pendingOf();
  expect(pending.filter((p) => p.purpose === 'stepup')).toHaveLength(MAX_PENDING);
  expect(pending.length).toBeLessThanOrEqual(2 * MAX_PENDING);
});

it('a step-up cancelled while the policy changed elsewhere: the kept rows keep their version, so saving them is a 412, not an overwrite', async () => {
  const form = await jar.get('/policy/beneficiaries');
  const etag = etagOf(form.body);
  const typed = { name1: 'Mine', relationship1: 'child', share1: '100' };
  const res = await jar.post('/policy/beneficiaries', { _csrf: csrfOf(form.body), etag, ...typed });
  const state = new URL(String(res.headers.location)).searchParams.get('state') ?? '';
  await saveElsewhere(etag, 'Theirs'); // while the user is at the verification
  const cancel = await jar.get(`/auth/redirect?state=${state}&error=access_denied`);
  expect(cancel.headers.location).toBe('/policy/beneficiaries');
  const kept = await jar.get('/policy/beneficiaries');
  expect(kept.body).toContain('value="Mine"');
  expect(etagOf(kept.body)).toBe(etag); // the version typed against, not the newer one

  // Saved after all: verified, then refused as changed elsewhere instead of overwriting.
  const again = await jar.post('/policy/beneficiaries', {
    _csrf: csrfOf(kept.body),
    etag: etagOf(kept.body),
    ...typed,
  });
  const b2c = new HttpBrowser(stack.azure.identityUrl);
  const signIn = expectPage(await b2c.open(String(again.headers.location)));
  const totp = expectPage(await b2c.submit(signIn, B2C_ALICE));
  const next = Math.floor(Date.now() / 1000) + 30; // a step after the one used at enrolment
  const back = expectRedirect(
    await b2c.submit(
      totp,
      { totpCode: await generate({ secret: totpSecret, epoch: next }) },
      'totpForm',
    ),
  );
  const done = await jar.get(`${back.pathname}${back.search}`);
  expect(done.headers.location).toBe('/policy/beneficiaries');
  expect(puts().at(-1)).toMatchObject({ flow: MFA_FLOW, ifMatch: etag });
  const shown = await jar.get('/policy/beneficiaries');
  expect(shown.body).toContain('Your policy was changed elsewhere in the meantime.');
  expect((await jar.get('/policy')).body).toContain('Theirs');
});

it('a refused refresh token at save time: after signing in again the form shows what was typed, unsaved, still behind step-up', async () => {
  const form = await jar.get('/policy/beneficiaries'); // the tab shows the form...
  await ageCache(store(), jar.cookie(), (cache) => {
    expireAccessTokens(cache);
    revokeRefreshTokens(cache);
  }); // ...while the refresh token expires
  const before = puts().length;
  const etag = etagOf(form.body);
  const typed = {
    _csrf: csrfOf(form.body),
    etag,
    name1: 'Typed Here',
    relationship1: 'child',
    share1: '60',
    name2: 'And Here',
    relationship2: 'spouse',
    share2: '40',
  };
  // Still validated first: a refused form needs no token and no sign-in.
  expect((await jar.post('/policy/beneficiaries', { ...typed, share1: '1000' })).statusCode).toBe(
    400,
  );
  const posted = await jar.post('/policy/beneficiaries', typed);
  expect(posted.statusCode).toBe(303);
  const authorize = new URL(String(posted.headers.location));
  expect(authorize.pathname).toMatch(/\/b2c_1_signupsignin\/oauth2\/v2.0\/authorize$/i);
  expect(authorize.href).not.toMatch(/Typed|Here/); // kept server-side, never in a URL
  expect(puts()).toHaveLength(before);
  // While the user is at the sign-in page, another site forces sign-in navigations: the sign-in
  // that holds the typed rows is not pushed out by them.
  for (let i = 0; i < 2 * MAX_PENDING; i += 1)
    for (const path of ['/auth/sign-in', '/auth/reset-password'])
      expect((await jar.get(path)).statusCode).toBe(302);

  expect(await signInAt(authorize)).toBe('/policy/beneficiaries');
  const back = await jar.get('/policy/beneficiaries');
  expect(back.body).toContain('value="Typed Here"');
  expect(back.body).toContain('value="And Here"');
  expect(back.body).toContain('Your change is not saved yet');
  expect(etagOf(back.body)).toBe(etag); // the version it was typed against
  expect(puts()).toHaveLength(before);
  // Shown once: the next view is the policy as stored.
  expect((await jar.get('/policy/beneficiaries')).body).not.toContain('Typed Here');

  // Saving it is a change like any other: the everyday token is refused, step-up is asked for.
  const again = await jar.post('/policy/beneficiaries', {
    ...typed,
    _csrf: csrfOf(back.body),
    etag: etagOf(back.body),
  });
  expect(new URL(String(again.headers.location)).pathname).toMatch(/b2c_1_signupsignin_mfa/i);
  expect(puts()).toHaveLength(before + 1);
  expect(puts().at(-1)?.flow).toBe('b2c_1_signupsignin');
});

it('what was typed is only shown to the one who typed it: another account signing in at the prompt does not see it', async () => {
  await ageCache(store(), jar.cookie(), (cache) => {
    expireAccessTokens(cache);
    revokeRefreshTokens(cache);
  });
  const page = await jar.get('/claims'); // a signed-in page: its token, as the form's
  const posted = await jar.post('/policy/beneficiaries', {
    _csrf: csrfOf(page.body),
    etag: '"v1"',
    name1: 'Private Draft',
    relationship1: 'child',
    share1: '100',
  });
  expect(await signInAt(new URL(String(posted.headers.location)), BOB)).toBe(
    '/policy/beneficiaries',
  );
  const bobs = await jar.get('/policy/beneficiaries');
  expect(bobs.statusCode).toBe(200);
  expect(bobs.body).not.toContain('Private Draft');
  expect(bobs.body).not.toContain('not saved yet');
  expect((await store().load(jar.cookie()))!.data.pendingWrite).toBeUndefined();
});

it('a form body no page sends (no version, a name of 150 000 characters) is not kept for after the sign-in: nothing unchecked is stored', async () => {
  await ageCache(store(), jar.cookie(), (cache) => {
    expireAccessTokens(cache);
    revokeRefreshTokens(cache);
  });
  const page = await jar.get('/claims');
  const huge = 'Ω'.repeat(150_000); // 900 kB encoded: within the body limit
  const posted = await jar.post('/policy/beneficiaries', {
    _csrf: csrfOf(page.body),
    name1: huge,
    relationship1: 'child',
    share1: '100',
  });
  expect(posted.statusCode).toBe(303);
  const authorize = new URL(String(posted.headers.location));
  expect(authorize.pathname).toMatch(/\/b2c_1_signupsignin\/oauth2\/v2.0\/authorize$/i);
  const waiting = (await pendingOf()).filter((p) => p.resume !== undefined);
  expect(waiting).toHaveLength(1);
  expect(waiting[0]!.resume!.beneficiaries).toBeUndefined();
  expect(JSON.stringify((await store().load(jar.cookie()))!.data).length).toBeLessThan(50_000);

  expect(await signInAt(authorize, BOB)).toBe('/policy/beneficiaries');
  const back = await jar.get('/policy/beneficiaries');
  expect(back.statusCode).toBe(200);
  expect(back.body).not.toContain('ΩΩΩ');
  expect(back.body).toContain('Your change was not saved');
  expect(puts().at(-1)?.body).not.toMatchObject({ beneficiaries: [{ name: huge }] });
});

/** Makes the authorization request of `state` `ms` older (as if the user stayed that long away). */
async function agePending(state: string, ms: number): Promise<void> {
  const s = (await store().load(jar.cookie()))!;
  const p = s.data.pending[state]!;
  const pending = { ...s.data.pending, [state]: { ...p, createdAt: p.createdAt - ms } };
  expect(await store().update(s, { ...s.data, pending }, s.data)).toBe(true);
}

const stateOf = (location: unknown) => new URL(String(location)).searchParams.get('state') ?? '';

it('a verification answered after its 15 minutes is not used, and the change typed for it comes back with the reason (not a silent trip home)', async () => {
  const res = await save({ name1: 'Slow Verifier', relationship1: 'child', share1: '100' });
  const before = puts().length; // the everyday token's attempt (refused: step-up) included
  const state = stateOf(res.headers.location);
  await agePending(state, 16 * 60 * 1000);
  const late = await jar.get(`/auth/redirect?state=${state}&code=never-redeemed`);
  expect(late.statusCode).toBe(303);
  expect(late.headers.location).toBe('/policy/beneficiaries');
  const form = await jar.get('/policy/beneficiaries');
  expect(form.body).toContain('value="Slow Verifier"');
  expect(form.body).toContain('Verification could not be completed');
  expect(puts()).toHaveLength(before);
  expect((await pendingOf()).some((p) => p.write?.rows[0]?.name === 'Slow Verifier')).toBe(false);
  // The same response once more: used up now, so simply home.
  expect(
    (await jar.get(`/auth/redirect?state=${state}&code=never-redeemed`)).headers.location,
  ).toBe('/');
});

/** A save whose refresh token is refused: returns the authorize URL of the sign-in it asks for. */
async function saveWithTokensRefused(name: string): Promise<URL> {
  await ageCache(store(), jar.cookie(), (cache) => {
    expireAccessTokens(cache);
    revokeRefreshTokens(cache);
  });
  const page = await jar.get('/claims');
  const posted = await jar.post('/policy/beneficiaries', {
    _csrf: csrfOf(page.body),
    etag: '"v9"',
    name1: name,
    relationship1: 'child',
    share1: '100',
  });
  const authorize = new URL(String(posted.headers.location));
  expect(authorize.pathname).toMatch(/\/b2c_1_signupsignin\/oauth2\/v2.0\/authorize$/i);
  return authorize;
}

it('a sign-in asked for by a save, cancelled or answered with an error: the user is told the change was not saved', async () => {
  const before = puts().length;
  for (const error of [
    'error=access_denied&error_description=AADB2C90091',
    'error=server_error&error_description=AADB2C90000',
  ]) {
    const authorize = await saveWithTokensRefused('Never Signed In');
    const back = await jar.get(`/auth/redirect?state=${stateOf(authorize)}&${error}`);
    expect({ error, location: back.headers.location }).toEqual({ error, location: '/' });
    const home = await jar.get('/');
    expect({ error, told: home.body.includes('so your change was not saved') }).toEqual({
      error,
      told: true,
    });
    expect((await pendingOf()).filter((p) => p.resume)).toHaveLength(0);
  }
  expect(puts()).toHaveLength(before);
});

it('a sign-in asked for by a save and answered after its 15 minutes: a fresh sign-in brings what was typed back to the form', async () => {
  const authorize = await saveWithTokensRefused('Kept Though Late');
  const state = stateOf(authorize);
  await agePending(state, 16 * 60 * 1000);
  const late = await jar.get(`/auth/redirect?state=${state}&code=never-redeemed`);
  const again = new URL(String(late.headers.location));
  expect(again.pathname).toMatch(/\/b2c_1_signupsignin\/oauth2\/v2.0\/authorize$/i);
  expect(stateOf(again)).not.toBe(state);
  expect(again.href).not.toContain('Kept');
  expect(await signInAt(again, BOB)).toBe('/policy/beneficiaries');
  const form = await jar.get('/policy/beneficiaries');
  expect(form.body).toContain('value="Kept Though Late"');
  expect(form.body).toContain('Your change is not saved yet');
  expect(etagOf(form.body)).toBe('"v9"'); // the version it was typed against
});

it('a sign-in started while signed in and answered after its 15 minutes: home with that said, the user and session as they were', async () => {
  const before = (await store().load(jar.cookie()))!;
  const start = await jar.get('/auth/sign-in');
  const state = stateOf(start.headers.location);
  await agePending(state, 16 * 60 * 1000);
  const late = await jar.get(`/auth/redirect?state=${state}&code=never-redeemed`);
  expect(late.statusCode).toBe(303);
  expect(late.headers.location).toBe('/');
  expect(late.headers['set-cookie']).toBeUndefined(); // not a sign-in: no new session id
  expect((await jar.get('/')).body).toContain('it was not used');
  const after = (await store().load(jar.cookie()))!;
  expect(after.data.user).toEqual(before.data.user);
  expect(after.data.pending).not.toHaveProperty(state);
});

it('two tabs each sent to sign in by a save: both changes come back, each shown once (the second sign-in dropped the rows the first brought back)', async () => {
  expect(await signInAt(String((await jar.get('/auth/sign-in')).headers.location))).toBe('/');
  const tabA = await saveWithTokensRefused('Tab A Row');
  const tabB = await saveWithTokensRefused('Tab B Row');
  expect(await signInAt(tabA)).toBe('/policy/beneficiaries');
  expect(await signInAt(tabB)).toBe('/policy/beneficiaries');
  const views: string[] = [];
  for (let i = 0; i < 3; i += 1) views.push((await jar.get('/policy/beneficiaries')).body);
  expect(views[0]).toContain('value="Tab B Row"'); // the newest first
  expect(views[1]).toContain('value="Tab A Row"');
  for (const view of views.slice(0, 2)) expect(view).toContain('Your change is not saved yet');
  expect(views[2]).not.toMatch(/Tab [AB] Row/);
  expect(views[2]).not.toContain('not saved yet');
});

it('changes brought back by sign-ins are bounded: of nine never viewed, the newest eight are shown, each once', async () => {
  for (let i = 1; i <= MAX_PENDING + 1; i += 1)
    expect(await signInAt(await saveWithTokensRefused(`Draft No ${i}`))).toBe(
      '/policy/beneficiaries',
    );
  for (let i = MAX_PENDING + 1; i >= 2; i -= 1)
    expect((await jar.get('/policy/beneficiaries')).body).toContain(`value="Draft No ${i}"`);
  expect((await jar.get('/policy/beneficiaries')).body).not.toContain('Draft No');
});

it('"Forgot your password?" at a sign-in asked for by a save: the reset, then a sign-in, bring what was typed back to the form', async () => {
  expect(await signInAt(String((await jar.get('/auth/sign-in')).headers.location))).toBe('/');
  const before = puts().length;
  const authorize = await saveWithTokensRefused('Kept Through Reset');
  const forgot = encodeURIComponent('AADB2C90118: The user has forgotten their password.');
  const toReset = await jar.get(
    `/auth/redirect?state=${stateOf(authorize)}&error=access_denied&error_description=${forgot}`,
  );
  const reset = new URL(String(toReset.headers.location));
  expect(reset.pathname).toMatch(/\/b2c_1_passwordreset\/oauth2\/v2.0\/authorize$/i);
  expect(reset.href).not.toContain('Kept');
  // The reset at the stand-in: address, the code it shows, a new password (the same one here).
  const b2c = new HttpBrowser(stack.azure.identityUrl);
  let page = expectPage(await b2c.open(reset.href));
  page = expectPage(await b2c.submit(page, { email: B2C_ALICE.email, action: 'continue' }));
  const code = textById(page.html, 'devVerificationCode')?.trim() ?? '';
  page = expectPage(await b2c.submit(page, { verificationCode: code, action: 'continue' }));
  const { password } = B2C_ALICE;
  const back = expectRedirect(
    await b2c.submit(page, { newPassword: password, reenterPassword: password }),
  );
  // The tokens are still refused: a fresh sign-in carries what was kept (it went home with
  // "Your password was changed." and the change was gone, unsaid).
  const done = await jar.get(`${back.pathname}${back.search}`);
  expect(done.statusCode).toBe(303);
  const again = new URL(String(done.headers.location));
  expect(again.pathname).toMatch(/\/b2c_1_signupsignin\/oauth2\/v2.0\/authorize$/i);
  expect(again.href).not.toContain('Kept');
  expect(await signInAt(again)).toBe('/policy/beneficiaries');
  const form = await jar.get('/policy/beneficiaries');
  expect(form.body).toContain('value="Kept Through Reset"');
  expect(form.body).toContain('Your change is not saved yet');
  expect(puts()).toHaveLength(before); // nothing saved on the way
});

it('"Forgot your password?" at a sign-in asked for by a save, then the reset cancelled: the user is told the change was not saved', async () => {
  const authorize = await saveWithTokensRefused('Reset Cancelled');
  const forgot = encodeURIComponent('AADB2C90118: The user has forgotten their password.');
  const toReset = await jar.get(
    `/auth/redirect?state=${stateOf(authorize)}&error=access_denied&error_description=${forgot}`,
  );
  const resetState = stateOf(toReset.headers.location);
  const cancelled = await jar.get(
    `/auth/redirect?state=${resetState}&error=access_denied&error_description=AADB2C90091`,
  );
  expect(cancelled.headers.location).toBe('/');
  expect((await jar.get('/')).body).toContain('so your change was not saved');
  expect((await pendingOf()).filter((p) => p.resume)).toHaveLength(0);
});
