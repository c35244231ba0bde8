// HEAD (link checkers, prefetchers, monitors) through the real portal: it must do nothing a GET
// would do on the user's behalf. GET /policy reads GET /policies/me, which creates the policy on
// first read; a HEAD of the page did the same, and used up kept form values and sign-in states.
import { SessionStore } from '../../src/session/session-store';
import { signInThroughB2c } from '../support/b2c-sign-in';
import { COOKIE, cookieJarClient } from '../support/portal-client';
import { portalEnv } from '../support/portal-env';
import { usePortalStack } from '../support/portal-stack';
import { startRecordingApi } from '../support/recording-api';

const stack = usePortalStack({
  startApi: () =>
    startRecordingApi({
      policy: { policyNumber: 'PN0000000008' },
      record: () => ({}),
      gate: () => undefined,
    }),
  env: (identityUrl, apiUrl) => portalEnv({ b2cHost: identityUrl, policyApiUrl: apiUrl }),
});
const jar = cookieJarClient(() => stack.portal);
const head = (url: string, cookie?: string) =>
  stack.portal.fastify.inject({
    method: 'HEAD',
    url,
    headers: cookie ? { cookie: `${COOKIE}=${cookie}` } : {},
  });
const sessionData = async () =>
  (await stack.portal.app.get(SessionStore).load(jar.cookie(), { touch: false }))!;

it('signed out: HEAD of a private page redirects like GET; HEAD /auth/sign-in starts no session', async () => {
  const policy = await head('/policy');
  expect(policy.statusCode).toBe(303);
  expect(policy.headers.location).toBe('/auth/sign-in?returnTo=%2Fpolicy');
  const signIn = await head('/auth/sign-in?returnTo=/policy');
  expect(signIn.headers['set-cookie']).toBeUndefined();
  expect(stack.api.calls).toEqual([]);
});

it('signed in: HEAD of the policy pages calls no API (no policy created) and changes nothing in the session', async () => {
  await signInThroughB2c(stack.azure.identityUrl, jar);
  // Values kept from a refused save wait in the session for the next view of the form.
  const kept = {
    rows: [{ name: 'Kept', relationship: 'child', sharePercent: '100' }],
    createdAt: Date.now(),
  };
  const store = stack.portal.app.get(SessionStore);
  const loaded = (await store.load(jar.cookie()))!;
  expect(await store.update(loaded, { ...loaded.data, pendingWrite: kept })).toBe(true);
  const before = await sessionData();

  for (const path of ['/policy', '/policy/beneficiaries', '/policy/history']) {
    const res = await head(path, jar.cookie());
    expect([path, res.statusCode]).toEqual([path, 200]);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['set-cookie']).toBeUndefined();
  }
  expect((await head('/auth/sign-in', jar.cookie())).headers['set-cookie']).toBeUndefined();
  expect(stack.api.calls).toEqual([]);
  const after = await sessionData();
  expect(after.version).toBe(before.version);
  expect(after.data).toEqual(before.data);

  // The GET the user asks for still does what it did: reads (here: first read) and shows the kept values.
  const form = await jar.get('/policy/beneficiaries');
  expect(form.body).toContain('value="Kept"');
  expect(stack.api.calls.map((c) => `${c.method} ${c.path}`)).toEqual(['GET /policies/me']);
});
