// Step-up without a browser: the portal against the B2C stand-in and a
// recording policy API that demands the MFA flow for writes (RFC 9470).
// Checks that the MFA flow's token is used for that one write and is never
// kept in the session's token cache.
import { generate } from 'otplib';
import {
  expectPage,
  expectRedirect,
  HttpBrowser,
  textById,
} from '../../../../dev-azure/test/support/http-browser';
import { SessionStore } from '../../src/session/session-store';
import { cookieJarClient } from '../support/portal-client';
import { usePortalStack } from '../support/portal-stack';
import { portalEnv } from '../support/portal-env';
import { flowOf, MFA_FLOW, startRecordingApi } from '../support/recording-api';

const ALICE = {
  email: 'alice@contoso.example',
  password: 'Alice-dev-Passw0rd!',
  oid: '554df49b-d82c-483a-b1bc-7ec8856fd2e0',
};

/** A policy API stand-in that records each call and wants the MFA flow for writes. */
const startApi = () =>
  startRecordingApi({
    policy: { policyNumber: 'PN0000000001', holderOid: ALICE.oid },
    record: (claims, token, req) => ({
      flow: flowOf(claims),
      token,
      ifMatch: req.headers['if-match'],
    }),
    gate: (claims) =>
      flowOf(claims) === MFA_FLOW
        ? undefined
        : {
            wwwAuthenticate: `Bearer error="insufficient_user_authentication", error_description="step-up", acr_values="${MFA_FLOW}", max_age=600`,
          },
  });

const stack = usePortalStack({
  startApi,
  env: (identityUrl, apiUrl) => portalEnv({ b2cHost: identityUrl, policyApiUrl: apiUrl }),
});

const jar = cookieJarClient(() => stack.portal);
const portalGet = jar.get;
const portalPost = jar.post;
const local = (u: URL) => `${u.pathname}${u.search}`;

describe('step-up for a beneficiary change', () => {
  const browser = () => new HttpBrowser(stack.azure.identityUrl);
  let b2c: HttpBrowser;
  let mfaCallback = '';

  it('signs Alice in', async () => {
    b2c = browser();
    const start = await portalGet('/auth/sign-in?returnTo=/policy/beneficiaries');
    const page = expectPage(await b2c.open(String(start.headers.location)));
    const back = expectRedirect(
      await b2c.submit(page, { email: ALICE.email, password: ALICE.password }),
    );
    const res = await portalGet(local(back));
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/policy/beneficiaries');
  });

  it('tries the write with the everyday token, then sends the user to the MFA flow with prompt=login and max_age', async () => {
    const form = await portalGet('/policy/beneficiaries');
    expect(form.statusCode).toBe(200);
    // A missing token posts an empty one: refused (403), which the 303 below would catch.
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
    const etag = /name="etag" value="([^"]*)"/.exec(form.body)?.[1];
    expect(etag).toBe('&quot;v1&quot;');
    const res = await portalPost('/policy/beneficiaries', {
      _csrf: csrf,
      etag: '"v1"',
      name1: 'Sam',
      relationship1: 'spouse',
      share1: '100',
    });
    expect(res.statusCode).toBe(303);
    const to = new URL(String(res.headers.location));
    expect(to.pathname).toMatch(/\/b2c_1_signupsignin_mfa\/oauth2\/v2.0\/authorize$/i);
    expect(to.searchParams.get('prompt')).toBe('login');
    expect(to.searchParams.get('max_age')).toBe('600');
    expect(to.searchParams.get('login_hint')).toBe(ALICE.email);
    const put = stack.api.calls.filter((c) => c.method === 'PUT');
    expect(put).toHaveLength(1);
    expect(put[0]?.flow).toBe('b2c_1_signupsignin');

    // prompt=login: the password again, then TOTP enrolment (Alice has none yet).
    const signIn = expectPage(await b2c.open(to.toString()));
    expect(signIn.html).toContain('id="password"');
    const enrol = expectPage(
      await b2c.submit(signIn, { email: ALICE.email, password: ALICE.password }),
    );
    const secret = textById(enrol.html, 'totpSecret')!;
    const back = expectRedirect(
      await b2c.submit(enrol, { totpCode: await generate({ secret }) }, 'totpForm'),
    );
    mfaCallback = local(back);
    const done = await portalGet(mfaCallback);
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe('/policy');
  });

  it('retried the write once with the MFA flow token, with what the user typed and the ETag', async () => {
    const put = stack.api.calls.filter((c) => c.method === 'PUT');
    expect(put).toHaveLength(2);
    expect(put[1]?.flow).toBe('b2c_1_signupsignin_mfa');
    expect(put[1]?.ifMatch).toBe('"v1"');
    expect(put[1]?.body).toEqual({
      beneficiaries: [{ name: 'Sam', relationship: 'spouse', sharePercent: 100 }],
    });
  });

  it('keeps the MFA token out of the session: later calls use the everyday token', async () => {
    const mfaToken = stack.api.calls.filter((c) => c.method === 'PUT')[1]?.token;
    expect(mfaToken).toBeDefined();
    const session = await stack.portal.app.get(SessionStore).load(jar.cookie());
    expect(session?.data.msalCache).toBeDefined();
    expect(session?.data.msalCache).not.toContain(mfaToken);
    expect(session?.data.msalCache).not.toMatch(/b2c_1_signupsignin_mfa/i);
    expect(session?.data.pendingWrite).toBeUndefined();
    const page = await portalGet('/policy');
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/<td>Sam<\/td><td>spouse<\/td><td>100%<\/td>/);
    expect(page.body).toContain('beneficiaries were updated');
    expect(stack.api.calls[stack.api.calls.length - 1]).toMatchObject({
      method: 'GET',
      path: '/policies/me',
      flow: 'b2c_1_signupsignin',
    });
  });

  it('does not act on a replay of the MFA response: the signed-in user is taken home, nothing written', async () => {
    const puts = stack.api.calls.filter((c) => c.method === 'PUT').length;
    const replay = await portalGet(mfaCallback);
    expect(replay.statusCode).toBe(303);
    expect(replay.headers.location).toBe('/');
    expect(stack.api.calls.filter((c) => c.method === 'PUT')).toHaveLength(puts);
    expect((await portalGet('/')).body).not.toContain('beneficiaries were updated');
  });

  it('an error response from the MFA flow brings the typed rows back with the reason (not an error page that lost them)', async () => {
    const form = await portalGet('/policy/beneficiaries');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
    const etag = (/name="etag" value="([^"]*)"/.exec(form.body)?.[1] ?? '').replace(/&quot;/g, '"');
    const res = await portalPost('/policy/beneficiaries', {
      _csrf: csrf,
      etag,
      name1: 'Typed Before',
      relationship1: 'child',
      share1: '100',
    });
    const state = new URL(String(res.headers.location)).searchParams.get('state') ?? '';
    const puts = stack.api.calls.filter((c) => c.method === 'PUT').length;
    const back = await portalGet(
      `/auth/redirect?state=${state}&error=server_error&error_description=${encodeURIComponent('AADB2C90000: <b>boom</b>')}`,
    );
    expect(back.headers.location).toBe('/policy/beneficiaries');
    const again = await portalGet('/policy/beneficiaries');
    expect(again.body).toContain('value="Typed Before"');
    expect(again.body).toContain('Verification could not be completed');
    expect(again.body).not.toContain('<b>boom</b>');
    expect(stack.api.calls.filter((c) => c.method === 'PUT')).toHaveLength(puts);
  });
});
