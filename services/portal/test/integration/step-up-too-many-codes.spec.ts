// A step-up ended by too many wrong one-time codes: the identity provider answers `access_denied`
// as it does for a cancel, but with AADSTS500121. The user must be told the verification failed
// (rows kept, nothing written), not that they cancelled it.
import {
  expectPage,
  expectRedirect,
  HttpBrowser,
} from '../../../../dev-azure/test/support/http-browser';
import { cookieJarClient } from '../support/portal-client';
import { EXTERNAL_ID, externalIdPortalEnv } from '../support/portal-env';
import { usePortalStack } from '../support/portal-stack';
import { startRecordingApi } from '../support/recording-api';

const ALICE = { email: 'alice@contoso.example', password: 'Alice-ext-Passw0rd!' };
const C1 = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}';

const stack = usePortalStack({
  startApi: () =>
    startRecordingApi({
      policy: { policyNumber: 'PN0000000002' },
      record: (claims) => ({ acrs: claims.acrs }),
      gate: (claims) =>
        Array.isArray(claims.acrs) && claims.acrs.includes('c1')
          ? undefined
          : {
              wwwAuthenticate: [
                `Bearer realm="${EXTERNAL_ID.tenantId}", error="insufficient_claims", claims="${Buffer.from(C1).toString('base64')}"`,
              ],
            },
    }),
  env: (identityUrl, apiUrl) => externalIdPortalEnv({ identityUrl, policyApiUrl: apiUrl }),
});
const jar = cookieJarClient(() => stack.portal);
const local = (u: URL) => `${u.pathname}${u.search}`;
const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

it('too many wrong one-time codes at step-up: "could not be completed" with the rows kept, not "cancelled"', async () => {
  const idp = new HttpBrowser(stack.azure.identityUrl);
  const start = await jar.get('/auth/sign-in?returnTo=/policy/beneficiaries');
  const signIn = expectPage(await idp.open(String(start.headers.location)));
  await jar.get(local(expectRedirect(await idp.submit(signIn, ALICE))));

  const form = await jar.get('/policy/beneficiaries');
  const etag = /name="etag" value="([^"]*)"/.exec(form.body)?.[1]?.replace(/&quot;/g, '"') ?? '';
  const saved = await jar.post('/policy/beneficiaries', {
    _csrf: csrfOf(form.body),
    etag,
    name1: 'Sam',
    relationship1: 'spouse',
    share1: '100',
  });
  const again = expectPage(await idp.open(String(saved.headers.location)));
  let otp = expectPage(await idp.submit(again, ALICE));
  let back: URL | undefined;
  for (let attempt = 0; attempt < 10 && !back; attempt++) {
    const r = await idp.submit(otp, { verificationCode: '00000000' });
    if ('redirect' in r) back = new URL(r.redirect);
    else otp = expectPage(r);
  }
  expect(back?.searchParams.get('error')).toBe('access_denied');
  const done = await jar.get(local(back!));
  expect(done.headers.location).toBe('/policy/beneficiaries');
  const page = await jar.get('/policy/beneficiaries');
  expect(page.body).toContain('Verification could not be completed');
  expect(page.body).not.toContain('cancelled');
  expect(page.body).toContain('value="Sam"');
  expect(stack.api.calls.filter((c) => c.method === 'PUT' && c.acrs)).toHaveLength(0);
});
