// CORS on the token endpoints, as Entra answers a single-page app redeeming its code from the
// browser: the preflight (OPTIONS) is answered for the caller's origin, and the POST's answer,
// token or error, names that origin so the page can read it.
import { seed, startTestAzure, type TestAzure } from '../support/harness';

const { contoso, fabrikam } = seed;
const SPA = 'https://spa.contoso.example';
let t: TestAzure;

beforeAll(async () => {
  t = await startTestAzure();
});
afterAll(async () => {
  await t.stop();
});

const tokenPaths = () => [
  `/contoso.onmicrosoft.com/B2C_1_signupsignin/oauth2/v2.0/token`,
  `/${fabrikam.id}/oauth2/v2.0/token`,
  `/${contoso.id}/oauth2/v2.0/token?p=b2c_1_signupsignin`,
];

describe('token endpoint CORS', () => {
  it.each([0, 1, 2])('answers the preflight for an origin (path %d)', async (i) => {
    const res = await fetch(`${t.azure.identityUrl}${tokenPaths()[i]}`, {
      method: 'OPTIONS',
      headers: {
        origin: SPA,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, client-request-id, x-client-sku',
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(SPA);
    expect(res.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS');
    expect(res.headers.get('access-control-allow-headers')).toBe(
      'content-type, client-request-id, x-client-sku',
    );
    expect(res.headers.get('vary')).toContain('Origin');
  });

  it('names the origin on the POST answer, errors included', async () => {
    const res = await fetch(`${t.azure.identityUrl}${tokenPaths()[1]}`, {
      method: 'POST',
      headers: { origin: SPA, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=authorization_code&client_id=00000000-0000-0000-0000-000000000000',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('access-control-allow-origin')).toBe(SPA);
    expect(((await res.json()) as { error: string }).error).toBeTruthy();
  });

  it('gives no CORS grant to a malformed origin or header list, and never a 500', async () => {
    const res = await fetch(`${t.azure.identityUrl}${tokenPaths()[0]}`, {
      method: 'OPTIONS',
      headers: {
        origin: 'javascript:alert(1)',
        'access-control-request-headers': 'content-type;evil',
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const odd = await fetch(`${t.azure.identityUrl}${tokenPaths()[0]}`, {
      method: 'OPTIONS',
      headers: { origin: SPA, 'access-control-request-headers': 'content-type;evil' },
    });
    expect(odd.headers.get('access-control-allow-headers')).toBe('content-type');
  });

  it('still refuses GET on the token endpoint, naming POST and OPTIONS', async () => {
    const res = await fetch(`${t.azure.identityUrl}${tokenPaths()[1]}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error_description: string }).error_description).toMatch(
      /^AADSTS900561: The endpoint only accepts POST, OPTIONS requests/,
    );
  });
});
