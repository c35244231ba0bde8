import { SCIM_ROUTES } from '../../src/scim/scim-routes';
import { startScim, USER, type Reply, type ScimTestApp } from '../support/scim-app';

// Every answer under the SCIM base is in the SCIM error schema (RFC 7644 §3.12) with the SCIM content
// type: unknown paths, methods a resource does not support (405 + Allow) and Fastify's own refusals.

const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const BASES = ['/scim/v2', '/errs/scim/v2'];
const WRITE_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'];

const expectScimError = (r: Reply, status: number, what: string) => {
  expect({ what, status: r.status, body: r.body }).toMatchObject({
    what,
    status,
    body: { schemas: [ERROR], status: String(status), detail: expect.any(String) },
  });
  expect(r.headers['content-type']).toMatch(/^application\/scim\+json/);
};

describe('SCIM error responses', () => {
  let s: ScimTestApp;
  let small: ScimTestApp;
  let token: string;
  let aws: string;
  beforeAll(async () => {
    s = await startScim();
    token = await s.directory('errs');
    aws = await s.directory('errs-aws', 'aws');
    small = await startScim(
      { SCIM_BODY_LIMIT_BYTES: '2048' },
      { shared: { pg: s.pg, nats: s.nats } },
    );
  });
  afterAll(async () => {
    await small.close();
    await s.close();
  });

  const body = (method: string) =>
    method === 'DELETE' ? undefined : { schemas: [USER], userName: 'nobody' };

  it('answers writes to the discovery endpoints with 405, Allow: GET, HEAD and the SCIM error schema', async () => {
    for (const base of BASES) {
      for (const path of [
        '/ServiceProviderConfig',
        '/Schemas',
        `/Schemas/${USER}`,
        '/ResourceTypes',
        '/ResourceTypes/User',
      ]) {
        for (const method of WRITE_METHODS) {
          const r = await s.request(method, `${base}${path}`, { token, body: body(method) });
          expectScimError(r, 405, `${method} ${base}${path}`);
          expect(r.headers.allow).toBe('GET, HEAD');
        }
      }
    }
  });

  it('answers a filter on the discovery endpoints with 403 (RFC 7644 §4), unfiltered lists as before', async () => {
    for (const path of ['/ServiceProviderConfig', '/Schemas', '/ResourceTypes']) {
      const r = await s.request(
        'GET',
        `/scim/v2${path}?filter=${encodeURIComponent('id eq "x"')}`,
        {
          token,
        },
      );
      expectScimError(r, 403, `filter on ${path}`);
      expect((await s.request('GET', `/scim/v2${path}`, { token })).status).toBe(200);
    }
  });

  it('answers unsupported methods on Users and Groups with 405 and what is allowed', async () => {
    for (const type of ['Users', 'Groups']) {
      for (const method of ['PUT', 'PATCH', 'DELETE']) {
        const r = await s.request(method, `/scim/v2/${type}`, { token, body: body(method) });
        expectScimError(r, 405, `${method} /${type}`);
        expect(r.headers.allow).toBe('GET, HEAD, POST');
      }
      const r = await s.request('POST', `/scim/v2/${type}/some-id`, { token, body: body('POST') });
      expectScimError(r, 405, `POST /${type}/id`);
      expect(r.headers.allow).toBe('GET, HEAD, PUT, PATCH, DELETE');
    }
  });

  it('keeps the table of allowed methods in step with the routes (no allowed method is refused as unknown)', async () => {
    const sample = (re: RegExp) =>
      [
        'Users',
        'Groups',
        'ServiceProviderConfig',
        'Schemas',
        'ResourceTypes',
        'Users/no-such-id',
        'Groups/no-such-id',
        'Schemas/no-such-id',
        'ResourceTypes/no-such-id',
        '.search',
      ].filter((p) => re.test(p));
    for (const route of SCIM_ROUTES) {
      for (const path of sample(route.path)) {
        for (const method of route.allow) {
          const r = await s.request(method, `/scim/v2/${path}`, {
            token,
            body: method === 'POST' || method === 'PUT' || method === 'PATCH' ? {} : undefined,
          });
          expect({ method, path, status: r.status, detail: r.body?.detail }).not.toMatchObject({
            status: 405,
          });
          if (r.status === 404 && method !== 'HEAD') expect(r.body.detail).toMatch(/not found/);
        }
      }
    }
  });

  it('answers unknown paths under the base with a SCIM 404', async () => {
    for (const base of BASES) {
      for (const path of ['', '/', '/Nope', '/Users/a/b', '/Schemas/x/y', '/Bulkx', '/Userz']) {
        for (const method of ['GET', 'POST', 'DELETE']) {
          const r = await s.request(method, `${base}${path}`, {
            token,
            body: method === 'POST' ? {} : undefined,
          });
          expectScimError(r, 404, `${method} ${base}${path}`);
        }
      }
    }
  });

  it('answers POST /.search on the base with a ListResponse (root-search.spec.ts) and its refusals in the SCIM error schema', async () => {
    const ok = await s.request('POST', '/scim/v2/.search', {
      token,
      body: {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
        filter: 'userName eq "x"',
      },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:ListResponse']);
    const bad = await s.request('POST', '/scim/v2/.search', { token, body: { filter: 'x' } });
    expectScimError(bad, 400, 'POST /.search without the SearchRequest schema');
    for (const method of ['GET', 'PUT', 'PATCH', 'DELETE']) {
      const r = await s.request(method, '/scim/v2/.search', { token, body: body(method) });
      expectScimError(r, 405, `${method} /.search`);
      expect(r.headers.allow).toBe('POST');
    }
  });

  it('authenticates before saying anything about a path', async () => {
    const r = await s.request('POST', '/scim/v2/ServiceProviderConfig', { body: {} });
    expectScimError(r, 401, 'no token');
    expect(r.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('uses the AWS error shape for the aws profile', async () => {
    const r = await s.request('DELETE', '/scim/v2/Schemas', { token: aws });
    expectScimError(r, 405, 'aws');
    expect(r.body).toMatchObject({ schema: [ERROR], exceptionRequestId: expect.any(String) });
  });

  it("renders Fastify's own refusals under the base in the SCIM error schema", async () => {
    const bigToken = await small.directory('errs-small');
    const big = JSON.stringify({ schemas: [USER], userName: 'big', title: 'x'.repeat(4096) });
    for (const url of ['/scim/v2/Users', '/scim/v2/Nope']) {
      const r = await small.request('POST', url, {
        token: bigToken,
        raw: big,
        headers: { 'content-type': 'application/scim+json' },
      });
      expectScimError(r, 413, `413 ${url}`);
    }
    for (const url of ['/scim/v2/Users/%E0%A4%A', '/scim/v2/Users/%']) {
      const r = await s.request('GET', url, { token });
      expectScimError(r, 400, `bad URL ${url}`);
    }
    const malformed = await s.request('POST', '/scim/v2/Users', {
      token,
      raw: '{"userName":',
      headers: { 'content-type': 'application/scim+json' },
    });
    expectScimError(malformed, 400, 'malformed JSON');
    expect(malformed.body.scimType).toBe('invalidSyntax');
    for (const ct of [
      'text/plain',
      'application/xml',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/scim+json; charset=latin1',
      '',
      ';;',
    ]) {
      const r = await s.request('POST', '/scim/v2/Users', {
        token,
        raw: '<user/>',
        headers: { 'content-type': ct },
      });
      expectScimError(r, r.status, `content-type ${ct}`);
      expect(r.status).toBeLessThan(500);
    }
  });

  it('leaves paths outside the SCIM base to the default error rendering', async () => {
    const r = await s.request('GET', '/not-scim/at-all', { token });
    expect(r.status).toBe(404);
    expect(r.body.schemas).toBeUndefined();
  });
});
