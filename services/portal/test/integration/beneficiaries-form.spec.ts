// The beneficiaries form as a hostile client posts it: values are refused, never shortened into
// something valid, fields sent twice are refused, and the ETag the form echoes as If-Match must be
// one. The portal in-process against the B2C stand-in and a recording policy API that lets every
// write through (no step-up), so each PUT that reaches it shows exactly what the portal sent.
import {
  expectPage,
  expectRedirect,
  HttpBrowser,
} from '../../../../dev-azure/test/support/http-browser';
import { cookieJarClient } from '../support/portal-client';
import { portalEnv } from '../support/portal-env';
import { usePortalStack } from '../support/portal-stack';
import { startRecordingApi } from '../support/recording-api';
import { B2C_ALICE } from '../support/b2c-sign-in';

const ALICE = B2C_ALICE;

const stack = usePortalStack({
  startApi: () =>
    startRecordingApi({
      policy: { policyNumber: 'PN0000000001' },
      record: (_claims, _token, req) => ({ ifMatch: req.headers['if-match'] }),
      gate: () => undefined,
    }),
  env: (identityUrl, apiUrl) => portalEnv({ b2cHost: identityUrl, policyApiUrl: apiUrl }),
});

const jar = cookieJarClient(() => stack.portal);
let csrf = '';

const puts = () => stack.api.calls.filter((c) => c.method === 'PUT');

/** Posts a raw urlencoded body (fields may repeat) with this session's cookie and CSRF token. */
const postRaw = (body: string) =>
  stack.portal.fastify.inject({
    method: 'POST',
    url: '/policy/beneficiaries',
    payload: `_csrf=${encodeURIComponent(csrf)}&${body}`,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      cookie: `__Host-portal_sid=${jar.cookie()}`,
    },
  });
const post = (fields: Record<string, string>) => postRaw(new URLSearchParams(fields).toString());

// The error summary's items; one about a field links to it.
const errorsOf = (html: string) =>
  [...html.matchAll(/<li>(?:<a href="#\w+">)?([^<]*)(?:<\/a>)?<\/li>/g)].map((m) =>
    (m[1] ?? '').replace(/&#39;/g, "'"),
  );

beforeAll(async () => {
  const start = await jar.get('/auth/sign-in');
  const b2c = new HttpBrowser(stack.azure.identityUrl);
  const page = expectPage(await b2c.open(String(start.headers.location)));
  const back = expectRedirect(await b2c.submit(page, ALICE));
  expect((await jar.get(`${back.pathname}${back.search}`)).statusCode).toBe(303);
  const form = await jar.get('/policy/beneficiaries');
  csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
  expect(csrf).not.toBe('');
});

describe('POST /policy/beneficiaries with hostile input', () => {
  it("refuses a name the API's rules refuse before any step-up or API call (same rules, @idp/contracts)", async () => {
    const cases: [string, string][] = [
      [
        'Ann\u202Eelpmaxe',
        'name must not contain bidirectional-override or invisible formatting characters',
      ],
      ['Ann\u0007', 'name must not contain control characters or line breaks'],
      ['\u0301\u0301', 'name must contain a visible character'],
      ['Ann\uE000', 'name must not contain private-use, unassigned or noncharacter code points'],
      ['   ', 'enter a name'],
    ];
    for (const [name, message] of cases) {
      const res = await post({ etag: '"v1"', name1: name, relationship1: 'spouse', share1: '100' });
      expect({ name, status: res.statusCode }).toEqual({ name, status: 400 });
      expect(errorsOf(res.body).join(' ')).toContain(message);
    }
    expect(puts()).toHaveLength(0);
  });

  it('refuses a share or a name that is too long instead of cutting it to fit (share 1000 was saved as 100)', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ share1: '1000' }, 'Beneficiary 1: the share must be a whole number from 1 to 100.'],
      [{ share1: '0100' }, 'Beneficiary 1: the share must be a whole number from 1 to 100.'],
      [{ share1: '1005' }, 'Beneficiary 1: the share must be a whole number from 1 to 100.'],
      [{ name1: 'a'.repeat(201) }, 'Beneficiary 1: the name can have at most 200 characters.'],
    ];
    for (const [change, error] of cases) {
      const res = await post({
        etag: '"v1"',
        name1: 'Sam',
        relationship1: 'spouse',
        share1: '100',
        ...change,
      });
      expect({ change, status: res.statusCode }).toEqual({ change, status: 400 });
      expect(errorsOf(res.body)).toContain(error);
    }
    expect(puts()).toHaveLength(0);
  });

  it('refuses a field sent twice (the row was silently dropped and the others saved)', async () => {
    const res = await postRaw(
      'etag=%22v1%22&name1=A&name1=A&relationship1=spouse&relationship1=spouse&share1=50&share1=50' +
        '&name2=B&relationship2=child&share2=100',
    );
    expect(res.statusCode).toBe(400);
    expect(errorsOf(res.body)).toContain('Beneficiary 1: send one value, not several.');
    const etagTwice = await postRaw(
      'etag=%22v1%22&etag=%22v1%22&name1=A&relationship1=spouse&share1=100',
    );
    expect(etagTwice.statusCode).toBe(400);
    expect(puts()).toHaveLength(0);
  });

  it('refuses a missing or malformed ETag with the form and the current version, never a 502 (it went into If-Match)', async () => {
    for (const etag of [
      undefined,
      '',
      'v1',
      '*',
      '"v1"\r\nX-Injected: 1',
      '"v€"',
      `"${'v'.repeat(5000)}"`,
    ]) {
      const res = await post({
        ...(etag === undefined ? {} : { etag }),
        name1: 'Sam',
        relationship1: 'spouse',
        share1: '100',
      });
      expect({ etag, status: res.statusCode }).toEqual({ etag, status: 400 });
      expect(res.body).toContain('did not say which version of your policy it changes');
      // The typed values stay; the form now carries the version the API reports.
      expect(res.body).toContain('name="etag" value="&quot;v1&quot;"');
      expect(res.body).toContain('value="Sam"');
    }
    expect(puts()).toHaveLength(0);
  });

  it('saves a 150-character emoji name whole (200 characters is 200 code points, not UTF-16 units)', async () => {
    const name = '😀'.repeat(150);
    const res = await post({ etag: '"v1"', name1: name, relationship1: 'child', share1: '100' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/policy');
    expect(puts()).toHaveLength(1);
    expect(puts()[0]).toMatchObject({
      ifMatch: '"v1"',
      body: { beneficiaries: [{ name, relationship: 'child', sharePercent: 100 }] },
    });
  });
});

describe('GET /policy/beneficiaries', () => {
  it('gives every field its own accessible name (row number first), not five times "Name"', async () => {
    const form = await jar.get('/policy/beneficiaries');
    const controls = [...form.body.matchAll(/<(?:input|select) id="(\w+)"/g)].map((m) => m[1]);
    expect(controls).toHaveLength(15);
    // A label's accessible name: its text, hidden parts included, tags dropped.
    const names = controls.map((id) => {
      const label = new RegExp(`<label for="${id}">(.*?)</label>`).exec(form.body)?.[1] ?? '';
      return label
        .replace(/<[^>]+>/g, '')
        .replace(/\s+/g, ' ')
        .trim();
    });
    expect(names.slice(0, 3)).toEqual([
      'Beneficiary 1 Name',
      'Beneficiary 1 Relationship',
      'Beneficiary 1 Share (%)',
    ]);
    expect(names[12]).toBe('Beneficiary 5 Name');
    expect(new Set(names).size).toBe(15);
  });
});
