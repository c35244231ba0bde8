// The merge of a lost write back (session-store.ts, session-merge.ts) through the real portal: a
// request held after its session load finishes after another request of the same session wrote.
// A policy API stand-in that checks If-Match gives the form's "changed elsewhere" path.
import {
  expectPage,
  expectRedirect,
  HttpBrowser,
} from '../../../../dev-azure/test/support/http-browser';
import { MAX_PENDING } from '../../src/session/session-data';
import { SessionStore } from '../../src/session/session-store';
import { signInThroughB2c } from '../support/b2c-sign-in';
import { cookieJarClient } from '../support/portal-client';
import { portalEnv } from '../support/portal-env';
import { usePortalStack } from '../support/portal-stack';
import { startRecordingApi } from '../support/recording-api';
import { holdNextLoad } from '../support/session-gate';

const stack = usePortalStack({
  startApi: () =>
    startRecordingApi({
      policy: { policyNumber: 'PN0000000013' },
      record: () => ({}),
      gate: () => undefined,
      checkIfMatch: true,
    }),
  env: (identityUrl, apiUrl) => portalEnv({ b2cHost: identityUrl, policyApiUrl: apiUrl }),
});
const jar = cookieJarClient(() => stack.portal);
const store = () => stack.portal.app.get(SessionStore);
const stateOf = (location: unknown) => new URL(String(location)).searchParams.get('state') ?? '';

beforeAll(async () => {
  await signInThroughB2c(stack.azure.identityUrl, jar);
});

it('a request that used up the kept rows does not drop newer rows another request kept meanwhile', async () => {
  const page = await jar.get('/policy/beneficiaries');
  const stale = {
    _csrf: /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '',
    etag: (/name="etag" value="([^"]*)"/.exec(page.body)?.[1] ?? '').replace(/&quot;/g, '"'),
    relationship1: 'child',
    share1: '100',
  };
  expect(
    (await jar.post('/policy/beneficiaries', { ...stale, name1: 'Saved' })).headers.location,
  ).toBe('/policy');
  // A save from the old version: 412, the rows are kept for the form with the reason.
  await jar.post('/policy/beneficiaries', { ...stale, name1: 'Older' });

  // Tab 1 shows the form (using up the kept rows), held after its session load; tab 2 saves
  // from the old version again, and its rows are kept. Then tab 1 writes back.
  const held = holdNextLoad(store(), jar.cookie());
  const shown = jar.get('/policy/beneficiaries');
  await held.loaded;
  const newer = await jar.post('/policy/beneficiaries', { ...stale, name1: 'Newer' });
  expect(newer.headers.location).toBe('/policy/beneficiaries');
  held.release();
  expect((await shown).body).toContain('value="Older"');

  const next = await jar.get('/policy/beneficiaries');
  expect(next.body).toContain('value="Newer"');
  expect(next.body).toContain('Your policy was changed elsewhere in the meantime.');
});

it('two requests that each start a sign-in flow at the limit: the merge keeps the limit', async () => {
  for (let i = 0; i < MAX_PENDING; i += 1) await jar.get('/auth/edit-profile');
  expect(Object.keys((await store().load(jar.cookie()))!.data.pending)).toHaveLength(MAX_PENDING);

  const held = holdNextLoad(store(), jar.cookie());
  const first = jar.get('/auth/edit-profile');
  await held.loaded;
  const second = stateOf((await jar.get('/auth/edit-profile')).headers.location);
  held.release();
  const firstState = stateOf((await first).headers.location);

  const pending = (await store().load(jar.cookie()))!.data.pending;
  expect(Object.keys(pending)).toHaveLength(MAX_PENDING);
  // The newest two are the ones kept: the oldest goes first, as with one request.
  expect(pending).toHaveProperty(firstState);
  expect(pending).toHaveProperty(second);
});

it('a sign-in completed while another tab cancelled its own sign-in: the cancelled state stays used up', async () => {
  const tabs = cookieJarClient(() => stack.portal);
  const signIn = async () => {
    const start = await tabs.get('/auth/sign-in');
    const b2c = new HttpBrowser(stack.azure.identityUrl);
    const page = expectPage(await b2c.open(String(start.headers.location)));
    const back = expectRedirect(
      await b2c.submit(page, { email: 'alice@contoso.example', password: 'Alice-dev-Passw0rd!' }),
    );
    return { state: stateOf(start.headers.location), callback: `${back.pathname}${back.search}` };
  };
  const one = await signIn();
  const two = await signIn(); // its code is never redeemed below: the user cancels that tab

  // Tab 1's sign-in response is held after its session load; tab 2 sends its cancel meanwhile.
  const held = holdNextLoad(store(), tabs.cookie());
  const completing = tabs.get(one.callback);
  await held.loaded;
  const cancel = await tabs.get(`/auth/redirect?state=${two.state}&error=access_denied`);
  expect(cancel.statusCode).toBeLessThan(400);
  held.release();
  expect((await completing).statusCode).toBe(303);

  const rotated = (await store().load(tabs.cookie()))!;
  expect(rotated.data.user?.oid).toBeTruthy();
  expect(rotated.data.pending).not.toHaveProperty(two.state);
  // Tab 2's real response, replayed after the cancel, finds no request to answer: the signed-in
  // user is taken home, its code never redeemed (the session is not written, the id not rotated).
  const replay = await tabs.get(two.callback);
  expect(replay.statusCode).toBe(303);
  expect(replay.headers.location).toBe('/');
  expect(replay.headers['set-cookie']).toBeUndefined();
  expect((await store().load(tabs.cookie()))!.version).toBe(rotated.version);
});
