import { expectScimError, startScim, type ScimTestApp } from '../support/scim-app';

// Features ServiceProviderConfig says are not supported answer 501 Not Implemented in the SCIM
// error schema (RFC 7644 §3.12: "Service provider does not support the request operation"; §3.11:
// a provider that does not support /Me SHOULD answer 501), after authentication, in both profiles.

describe('conformance: unsupported SCIM features answer 501', () => {
  let s: ScimTestApp;
  let token: string;
  let aws: string;
  beforeAll(async () => {
    s = await startScim();
    token = await s.directory('unsupported');
    aws = await s.directory('unsupported-aws', 'aws');
  });
  afterAll(() => s.close());

  it.each([
    ['POST', '/Bulk'],
    ['GET', '/Bulk'],
    ['POST', '/bulk/'],
    ['GET', '/Me'],
    ['PUT', '/Me'],
    ['PATCH', '/me'],
    ['DELETE', '/Me'],
    ['GET', '/Me/x'],
  ])('%s %s is 501 in the SCIM error schema', async (method, path) => {
    for (const base of ['/scim/v2', '/unsupported/scim/v2']) {
      const r = await s.request(method, `${base}${path}`, {
        token,
        body: method === 'GET' || method === 'DELETE' ? undefined : {},
      });
      expectScimError(r, 501);
    }
    const a = await s.request(method, `/scim/v2${path}`, { token: aws });
    expect(a.status).toBe(501);
    expect(a.body.status).toBe('501');
  });

  it('is still 401 without a token, and ServiceProviderConfig still says bulk is unsupported', async () => {
    expect((await s.request('POST', '/scim/v2/Bulk', { body: {} })).status).toBe(401);
    const spc = await s.request('GET', '/scim/v2/ServiceProviderConfig', { token });
    expect(spc.body.bulk).toMatchObject({ supported: false });
  });
});
