// Two requests of one session at once, through the real portal (B2C stand-in, a recording policy
// API that wants the MFA flow for writes): a step-up completed in one tab while a beneficiary
// form is saved in another. Both loaded the same session; without a version on the row the
// later write back put back the state the step-up had used up and dropped its success message.
import { generate } from 'otplib';
import {
  expectPage,
  expectRedirect,
  HttpBrowser,
  textById,
} from '../../../../dev-azure/test/support/http-browser';
import { SessionStore } from '../../src/session/session-store';
import { cookieJarClient } from '../support/portal-client';
import { portalEnv } from '../support/portal-env';
import { usePortalStack } from '../support/portal-stack';
import { flowOf, MFA_FLOW, startRecordingApi } from '../support/recording-api';
import { holdNextLoad } from '../support/session-gate';
import { B2C_ALICE } from '../support/b2c-sign-in';

const ALICE = B2C_ALICE;

const stack = usePortalStack({
  startApi: () =>
    startRecordingApi({
      policy: { policyNumber: 'PN0000000007' },
      record: (claims) => ({ flow: flowOf(claims) }),
      gate: (claims) =>
        flowOf(claims) === MFA_FLOW
          ? undefined
          : {
              wwwAuthenticate: `Bearer error="insufficient_user_authentication", acr_values="${MFA_FLOW}", max_age=600`,
            },
    }),
  env: (identityUrl, apiUrl) => portalEnv({ b2cHost: identityUrl, policyApiUrl: apiUrl }),
});
const jar = cookieJarClient(() => stack.portal);
const local = (u: URL) => `${u.pathname}${u.search}`;

async function formFields(): Promise<{ _csrf: string; etag: string }> {
  const form = await jar.get('/policy/beneficiaries');
  expect(form.statusCode).toBe(200);
  return {
    _csrf: /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? '',
    etag: (/name="etag" value="([^"]*)"/.exec(form.body)?.[1] ?? '').replace(/&quot;/g, '"'),
  };
}

const saveRows = async (name: string) =>
  jar.post('/policy/beneficiaries', {
    ...(await formFields()),
    name1: name,
    relationship1: 'spouse',
    share1: '100',
  });

it('a step-up completed while another tab saves the form: both changes to the session are kept', async () => {
  const b2c = new HttpBrowser(stack.azure.identityUrl);
  const start = await jar.get('/auth/sign-in');
  const signIn = expectPage(await b2c.open(String(start.headers.location)));
  await jar.get(local(expectRedirect(await b2c.submit(signIn, ALICE))));

  // Tab 1: a save goes to step-up; the MFA flow is done, its response not yet back at the portal.
  const first = new URL(String((await saveRows('First')).headers.location));
  const stateA = first.searchParams.get('state') ?? '';
  const mfa = expectPage(await b2c.open(first.toString()));
  const enrol = expectPage(await b2c.submit(mfa, ALICE));
  const secret = textById(enrol.html, 'totpSecret')!;
  const callbackA = expectRedirect(
    await b2c.submit(enrol, { totpCode: await generate({ secret }) }, 'totpForm'),
  );

  // Tab 2: a second save loads the session, and is held there while tab 1's step-up completes.
  const fields = await formFields();
  const held = holdNextLoad(stack.portal.app.get(SessionStore), jar.cookie());
  const second = jar.post('/policy/beneficiaries', {
    ...fields,
    name1: 'Second',
    relationship1: 'child',
    share1: '100',
  });
  await held.loaded;
  const done = await jar.get(local(callbackA));
  expect(done.headers.location).toBe('/policy');
  held.release();
  const stateB = new URL(String((await second).headers.location)).searchParams.get('state');
  expect(stateB).toBeTruthy();

  // Neither write lost the other's: tab 1's state stays used up and its message is shown;
  // tab 2's verification is still waiting with what was typed for it.
  const session = (await stack.portal.app.get(SessionStore).load(jar.cookie()))!;
  expect(Object.keys(session.data.pending)).toEqual([stateB]);
  expect(session.data.pending[stateB!]?.write?.rows[0]?.name).toBe('Second');
  expect(session.data.pending).not.toHaveProperty(stateA);
  const policy = await jar.get('/policy');
  expect(policy.body).toContain('Your beneficiaries were updated.');
  expect(policy.body).toMatch(/<td>First<\/td>/);
});
