import { GROUP, patchOp, startScim, USER, type ScimTestApp } from '../support/scim-app';

// RFC 7644 §3.14 as validators check it: a GET with If-None-Match naming the current version is 304
// Not Modified without a body (ServiceProviderConfig says etag is supported), any other version is a
// 200 with the resource; the ETag header is the version whatever `attributes` keeps.

describe('conformance: If-None-Match on reads (RFC 7644 §3.14)', () => {
  let s: ScimTestApp;
  let token: string;
  beforeAll(async () => {
    s = await startScim();
    token = await s.directory('etags');
  });
  afterAll(() => s.close());

  it.each([
    [
      'Users',
      { schemas: [USER], userName: 'etag-user' },
      patchOp({ op: 'add', path: 'title', value: 't' }),
    ],
    [
      'Groups',
      { schemas: [GROUP], displayName: 'etag-group' },
      patchOp({ op: 'replace', path: 'displayName', value: 'renamed' }),
    ],
  ])('answers 304 on %s when the client holds the current version', async (type, body, change) => {
    const created = await s.request('POST', `/scim/v2/${type}`, { token, body });
    expect(created.status).toBe(201);
    const url = `/scim/v2/${type}/${created.body.id}`;
    const tag = created.headers.etag as string;
    expect(tag).toBe('W/"1"');
    for (const inm of [tag, '"1"', `W/"9", ${tag}`, '*']) {
      const r = await s.request('GET', url, { token, headers: { 'if-none-match': inm } });
      expect({ inm, status: r.status, text: r.text, etag: r.headers.etag }).toEqual({
        inm,
        status: 304,
        text: '',
        etag: tag,
      });
    }
    // with a projection that leaves meta out, the ETag is still sent and still compared
    const projected = await s.request('GET', `${url}?attributes=id`, { token });
    expect(projected.headers.etag).toBe(tag);
    expect(
      (await s.request('GET', `${url}?attributes=id`, { token, headers: { 'if-none-match': tag } }))
        .status,
    ).toBe(304);
    const stale = await s.request('GET', url, { token, headers: { 'if-none-match': 'W/"9"' } });
    expect(stale.status).toBe(200);
    expect(stale.body.id).toBe(created.body.id);

    const patched = await s.request('PATCH', `${url}?attributes=id`, { token, body: change });
    expect(patched.status).toBe(200);
    const after = await s.request('GET', url, { token, headers: { 'if-none-match': tag } });
    expect(after.status).toBe(200);
    expect(after.headers.etag).toBe('W/"2"');
    expect(after.body.meta.version).toBe('W/"2"');
  });

  it('still answers 404 for an unknown id whatever If-None-Match says', async () => {
    const r = await s.request('GET', '/scim/v2/Users/nope', {
      token,
      headers: { 'if-none-match': '*' },
    });
    expect(r.status).toBe(404);
  });
});
