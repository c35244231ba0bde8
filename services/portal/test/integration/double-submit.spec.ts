// The beneficiaries form submitted twice (a double click, the same save in two tabs) against the
// real portal and a policy API stand-in that checks If-Match as policy-api does: one write wins,
// the other gets 412. The loser did what the user asked, so it must not say "changed elsewhere".
import { signInThroughB2c } from '../support/b2c-sign-in';
import { cookieJarClient } from '../support/portal-client';
import { portalEnv } from '../support/portal-env';
import { usePortalStack } from '../support/portal-stack';
import { startRecordingApi } from '../support/recording-api';

const stack = usePortalStack({
  startApi: () =>
    startRecordingApi({
      policy: { policyNumber: 'PN0000000011' },
      record: (_claims, _token, req) => ({ ifMatch: req.headers['if-match'] }),
      gate: () => undefined,
      checkIfMatch: true,
    }),
  env: (identityUrl, apiUrl) => portalEnv({ b2cHost: identityUrl, policyApiUrl: apiUrl }),
});
const jar = cookieJarClient(() => stack.portal);
const puts = () => stack.api.calls.filter((c) => c.method === 'PUT');

async function form(): Promise<{ _csrf: string; etag: string }> {
  const page = await jar.get('/policy/beneficiaries');
  return {
    _csrf: /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '',
    etag: (/name="etag" value="([^"]*)"/.exec(page.body)?.[1] ?? '').replace(/&quot;/g, '"'),
  };
}

beforeAll(async () => {
  await signInThroughB2c(stack.azure.identityUrl, jar);
});

it('the same change sent twice: one write, and both answers say it was saved', async () => {
  const fields = { ...(await form()), name1: 'Sam', relationship1: 'spouse', share1: '100' };
  const [a, b] = await Promise.all([
    jar.post('/policy/beneficiaries', fields),
    jar.post('/policy/beneficiaries', fields),
  ]);
  expect([a.headers.location, b.headers.location]).toEqual(['/policy', '/policy']);
  expect(puts().map((c) => c.ifMatch)).toEqual(['"v1"', '"v1"']); // the second lost: 412
  const policy = await jar.get('/policy');
  expect(policy.body).toContain('Your beneficiaries were updated.');
  const again = await jar.get('/policy/beneficiaries');
  expect(again.body).not.toContain('changed elsewhere');
});

it('two different changes from the same version: the second is still told the policy changed', async () => {
  const base = await form();
  const first = await jar.post('/policy/beneficiaries', {
    ...base,
    name1: 'Kim',
    relationship1: 'child',
    share1: '100',
  });
  expect(first.headers.location).toBe('/policy');
  const second = await jar.post('/policy/beneficiaries', {
    ...base,
    name1: 'Lee',
    relationship1: 'child',
    share1: '100',
  });
  expect(second.headers.location).toBe('/policy/beneficiaries');
  const shown = await jar.get('/policy/beneficiaries');
  expect(shown.body).toContain('Your policy was changed elsewhere in the meantime.');
  expect(shown.body).toContain('value="Lee"');
});
