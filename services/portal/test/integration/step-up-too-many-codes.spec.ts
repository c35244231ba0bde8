// A step-up ended by too many wrong one-time codes: the identity provider answers `access_denied`
// as it does for a cancel, but with AADSTS500121 (External ID) or AADB2C90151 (B2C). The user must
// be told the verification failed (rows kept, nothing written), not that they cancelled it.
import {
  expectPage,
  expectRedirect,
  HttpBrowser,
} from '../../../../dev-azure/test/support/http-browser';
import { signInThroughB2c } from '../support/b2c-sign-in';
import { cookieJarClient, type CookieJarClient } from '../support/portal-client';
import { EXTERNAL_ID, externalIdPortalEnv, portalEnv } from '../support/portal-env';
import { usePortalStack } from '../support/portal-stack';
import { startRecordingApi } from '../support/recording-api';

const ALICE = { email: 'alice@contoso.example', password: 'Alice-ext-Passw0rd!' };
const B2C_ALICE = { email: 'alice@contoso.example', password: 'Alice-dev-Passw0rd!' };
const C1 = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}';

const local = (u: URL) => `${u.pathname}${u.search}`;
const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

/** Saves a change from a fresh form; returns the step-up authorize URL it led to. */
async function saveToStepUp(jar: CookieJarClient): Promise<string> {
  const form = await jar.get('/policy/beneficiaries');
  const etag = /name="etag" value="([^"]*)"/.exec(form.body)?.[1]?.replace(/&quot;/g, '"') ?? '';
  const saved = await jar.post('/policy/beneficiaries', {
    _csrf: csrfOf(form.body),
    etag,
    name1: 'Sam',
    relationship1: 'spouse',
    share1: '100',
  });
  return String(saved.headers.location);
}

/** Submits a wrong code until the provider gives up; returns the response it sends back. */
async function wrongCodesUntilRedirect(
  idp: HttpBrowser,
  page: ReturnType<typeof expectPage>,
  field: Record<string, string>,
  formId?: string,
): Promise<URL> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const r = await idp.submit(page, field, formId);
    if ('redirect' in r) return new URL(r.redirect);
    page = expectPage(r);
  }
  throw new Error('the provider never gave up');
}

/** The form after the failed verification: the rows and the reason, not "cancelled". */
async function expectFailedNotCancelled(jar: CookieJarClient, back: URL): Promise<void> {
  expect(back.searchParams.get('error')).toBe('access_denied');
  expect((await jar.get(local(back))).headers.location).toBe('/policy/beneficiaries');
  const page = await jar.get('/policy/beneficiaries');
  expect(page.body).toContain('Verification could not be completed');
  expect(page.body).not.toContain('cancelled');
  expect(page.body).toContain('value="Sam"');
}

describe('External ID', () => {
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

  it('five wrong email codes (AADSTS500121): "could not be completed" with the rows kept, not "cancelled"', async () => {
    const idp = new HttpBrowser(stack.azure.identityUrl);
    const start = await jar.get('/auth/sign-in?returnTo=/policy/beneficiaries');
    const signIn = expectPage(await idp.open(String(start.headers.location)));
    await jar.get(local(expectRedirect(await idp.submit(signIn, ALICE))));

    const again = expectPage(await idp.open(await saveToStepUp(jar)));
    const otp = expectPage(await idp.submit(again, ALICE));
    const back = await wrongCodesUntilRedirect(idp, otp, { verificationCode: '00000000' });
    expect(back.searchParams.get('error_description')).toContain('AADSTS500121');
    await expectFailedNotCancelled(jar, back);
    expect(stack.api.calls.filter((c) => c.method === 'PUT' && c.acrs)).toHaveLength(0);
  });
});

describe('B2C', () => {
  const MFA_FLOW = 'b2c_1_signupsignin_mfa';
  const stack = usePortalStack({
    startApi: () =>
      startRecordingApi({
        policy: { policyNumber: 'PN0000000001' },
        record: (claims) => ({ flow: String(claims.tfp ?? '').toLowerCase() }),
        gate: (claims) =>
          String(claims.tfp ?? '').toLowerCase() === MFA_FLOW
            ? undefined
            : {
                wwwAuthenticate: `Bearer error="insufficient_user_authentication", acr_values="${MFA_FLOW}", max_age=600`,
              },
      }),
    env: (identityUrl, apiUrl) => portalEnv({ b2cHost: identityUrl, policyApiUrl: apiUrl }),
  });
  const jar = cookieJarClient(() => stack.portal);

  it('wrong TOTP codes until B2C gives up (AADB2C90151): "could not be completed" with the rows kept', async () => {
    await signInThroughB2c(stack.azure.identityUrl, jar);
    const idp = new HttpBrowser(stack.azure.identityUrl);
    const signIn = expectPage(await idp.open(await saveToStepUp(jar)));
    const enrol = expectPage(await idp.submit(signIn, B2C_ALICE));
    const back = await wrongCodesUntilRedirect(idp, enrol, { totpCode: '000000' }, 'totpForm');
    expect(back.searchParams.get('error_description')).toContain('AADB2C90151');
    await expectFailedNotCancelled(jar, back);
    expect(stack.api.calls.filter((c) => c.method === 'PUT' && c.flow === MFA_FLOW)).toHaveLength(
      0,
    );
  });
});
