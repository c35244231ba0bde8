import { startScim, USER, type ScimTestApp } from '../support/scim-app';

// RFC 7644 §3.4.2.4: startIndex below 1 is 1, a negative count is 0, a count over the provider's
// maximum is that maximum. An integer too large for the service's arithmetic is still an integer:
// validators send 2^63 and beyond and expect the same clamping, not "must be an integer".

describe('conformance: paging parameters (RFC 7644 §3.4.2.4)', () => {
  let s: ScimTestApp;
  let token: string;
  beforeAll(async () => {
    s = await startScim({ SCIM_MAX_PAGE_SIZE: '2' });
    token = await s.directory('paging');
    for (const u of ['p1', 'p2', 'p3']) {
      const r = await s.request('POST', '/scim/v2/Users', {
        token,
        body: { schemas: [USER], userName: u },
      });
      expect(r.status).toBe(201);
    }
  });
  afterAll(() => s.close());

  it.each([
    ['count=99999999999999999999', { totalResults: 3, itemsPerPage: 2, startIndex: 1 }],
    ['count=-99999999999999999999', { totalResults: 3, itemsPerPage: 0, startIndex: 1 }],
    ['startIndex=-99999999999999999999', { totalResults: 3, itemsPerPage: 2, startIndex: 1 }],
    ['startIndex=%2B3&count=%2B1', { totalResults: 3, itemsPerPage: 1, startIndex: 3 }],
  ])('GET /Users?%s clamps', async (qs, page) => {
    const r = await s.request('GET', `/scim/v2/Users?${qs}`, { token });
    expect({ status: r.status, body: r.body }).toMatchObject({ status: 200, body: page });
    expect(r.body.Resources).toHaveLength(page.itemsPerPage);
  });

  it('answers a startIndex past any directory with an empty page, on GET and POST .search', async () => {
    const get = await s.request('GET', '/scim/v2/Users?startIndex=99999999999999999999', { token });
    expect(get.status).toBe(200);
    expect(get.body).toMatchObject({ totalResults: 3, itemsPerPage: 0, Resources: [] });
    expect(get.body.startIndex).toBeGreaterThan(3);
    const post = await s.request('POST', '/scim/v2/Users/.search', {
      token,
      body: {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
        startIndex: 1e21,
        count: 1e21,
      },
    });
    expect(post.status).toBe(200);
    expect(post.body).toMatchObject({ totalResults: 3, itemsPerPage: 0, Resources: [] });
  });

  it('still refuses what is not an integer', async () => {
    for (const qs of ['count=1.5', 'count=1e2', 'startIndex=abc', 'startIndex=--1']) {
      const r = await s.request('GET', `/scim/v2/Users?${qs}`, { token });
      expect({ qs, status: r.status, scimType: r.body.scimType }).toEqual({
        qs,
        status: 400,
        scimType: 'invalidValue',
      });
    }
  });
});
