import { ConfigError } from '@idp/service-kit';
import { loadScimConfig } from '../../src/config';
import { GROUP, patchOp, startScim, USER, type ScimTestApp } from '../support/scim-app';

// Where the URLs the service emits (meta.location, members' and groups' $ref, Location, discovery
// documents) point. Fastify trusts X-Forwarded-Host (service-kit's `trustProxy`), so without
// SCIM_PUBLIC_BASE_URL any client picks the host; with it, the configured host is the only one.

/** Headers a client (or a misconfigured proxy) can send to move the host of emitted URLs. */
const SPOOF = {
  host: 'attacker.example',
  'x-forwarded-host': 'evil.example',
  'x-forwarded-proto': 'http',
};

const BASE_ENV = {
  DATABASE_URL: 'postgresql://u:p@127.0.0.1:5432/scim',
  NATS_URL: 'nats://127.0.0.1:4222',
};
const load = (SCIM_PUBLIC_BASE_URL: string) =>
  loadScimConfig({ ...BASE_ENV, SCIM_PUBLIC_BASE_URL });
const refusal = (value: string): string => {
  try {
    load(value);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  return '';
};

describe('SCIM_PUBLIC_BASE_URL (configuration)', () => {
  it.each([
    ['https://scim.contoso.example', 'https://scim.contoso.example'],
    ['https://scim.contoso.example/', 'https://scim.contoso.example'],
    ['https://SCIM.contoso.example:8443/identity/', 'https://scim.contoso.example:8443/identity'],
    ['http://localhost:3002', 'http://localhost:3002'],
    ['http://127.0.0.1:8443/', 'http://127.0.0.1:8443'],
    ['http://[::1]:3002', 'http://[::1]:3002'],
  ])('accepts %s as %s', (value, stored) => {
    expect(load(value).SCIM_PUBLIC_BASE_URL).toBe(stored);
  });

  it('is optional (unset or empty: undefined)', () => {
    expect(loadScimConfig(BASE_ENV).SCIM_PUBLIC_BASE_URL).toBeUndefined();
    expect(load('').SCIM_PUBLIC_BASE_URL).toBeUndefined();
  });

  it.each([
    ['http://scim.contoso.example', /https URL/],
    ['http://localhost.evil.example', /https URL/],
    ['ftp://scim.contoso.example', /https URL/],
    ['scim.contoso.example', /absolute URL/],
    ['/scim', /absolute URL/],
    ['https://user:pass@scim.contoso.example', /credentials, query or fragment/],
    ['https://scim.contoso.example/?x=1', /credentials, query or fragment/],
    ['https://scim.contoso.example/#top', /credentials, query or fragment/],
  ])('refuses %s at boot, naming the variable', (value, why) => {
    const message = refusal(value);
    expect(message).toMatch(/SCIM_PUBLIC_BASE_URL: /);
    expect(message).toMatch(why);
  });
});

describe('SCIM_PUBLIC_BASE_URL (emitted URLs)', () => {
  let open: ScimTestApp; // no public base URL: today's behaviour, for local development
  let pinned: ScimTestApp;
  let openToken: string;
  let token: string;
  beforeAll(async () => {
    open = await startScim();
    pinned = await startScim(
      { SCIM_PUBLIC_BASE_URL: 'https://scim.contoso.example/' },
      { shared: { pg: open.pg, nats: open.nats } },
    );
    openToken = await open.directory('open');
    token = await pinned.directory('pinned');
  });
  afterAll(async () => {
    await pinned.close();
    await open.close();
  });

  const BASE = 'https://scim.contoso.example/scim/v2';
  const DIRECTORY_BASE = 'https://scim.contoso.example/pinned/scim/v2';
  const send = (method: string, url: string, body?: unknown) =>
    pinned.request(method, url, { token, body, headers: SPOOF });

  it('unset: URLs follow the request host, X-Forwarded-Host included (why deployments set it)', async () => {
    const r = await open.request('POST', '/scim/v2/Users', {
      token: openToken,
      body: { schemas: [USER], userName: 'open@contoso.com' },
      headers: SPOOF,
    });
    expect(r.status).toBe(201);
    expect(r.body.meta.location).toBe(`http://evil.example/scim/v2/Users/${r.body.id}`);
    expect(r.headers.location).toBe(r.body.meta.location);
  });

  it('set: POST, GET, PUT, PATCH and lists put every URL on the configured host, whatever Host / X-Forwarded-* say', async () => {
    const u = await send('POST', '/scim/v2/Users', {
      schemas: [USER],
      userName: 'pinned@contoso.com',
    });
    expect(u.status).toBe(201);
    const userUrl = `${BASE}/Users/${u.body.id}`;
    expect(u.body.meta.location).toBe(userUrl);
    expect(u.headers.location).toBe(userUrl);

    const g = await send('POST', '/scim/v2/Groups', {
      schemas: [GROUP],
      displayName: 'Pinned',
      members: [{ value: u.body.id }],
    });
    expect(g.status).toBe(201);
    const groupUrl = `${BASE}/Groups/${g.body.id}`;
    expect(g.headers.location).toBe(groupUrl);
    expect(g.body.meta.location).toBe(groupUrl);
    expect(g.body.members).toEqual([expect.objectContaining({ value: u.body.id, $ref: userUrl })]);

    const got = await send('GET', `/scim/v2/Users/${u.body.id}`);
    expect(got.body.meta.location).toBe(userUrl);
    expect(got.body.groups).toEqual([
      expect.objectContaining({ value: g.body.id, $ref: groupUrl }),
    ]);

    const put = await send('PUT', `/scim/v2/Users/${u.body.id}`, {
      schemas: [USER],
      userName: 'pinned@contoso.com',
      title: 'Engineer',
    });
    expect(put.status).toBe(200);
    expect(put.body.meta.location).toBe(userUrl);
    const patched = await send(
      'PATCH',
      `/scim/v2/Users/${u.body.id}`,
      patchOp({ op: 'replace', path: 'title', value: 'Lead' }),
    );
    expect(patched.status).toBe(200);
    expect(patched.body.meta.location).toBe(userUrl);

    const list = await send('GET', '/scim/v2/Groups');
    expect(list.body.Resources).toEqual([
      expect.objectContaining({
        meta: expect.objectContaining({ location: groupUrl }),
        members: [expect.objectContaining({ $ref: userUrl })],
      }),
    ]);
    const search = await send('POST', '/scim/v2/.search', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
    });
    expect(search.status).toBe(200);
    expect(search.body.Resources.length).toBeGreaterThan(0);
    for (const r of search.body.Resources as { meta: { location: string } }[])
      expect(r.meta.location.startsWith(`${BASE}/`)).toBe(true);
  });

  it('set: per-directory endpoints keep their path after the configured origin', async () => {
    const u = await send('POST', '/pinned/scim/v2/Users', {
      schemas: [USER],
      userName: 'path@contoso.com',
    });
    expect(u.status).toBe(201);
    expect(u.headers.location).toBe(`${DIRECTORY_BASE}/Users/${u.body.id}`);
    expect(u.body.meta.location).toBe(`${DIRECTORY_BASE}/Users/${u.body.id}`);
  });

  it('set: discovery documents point at the configured host', async () => {
    const spc = await send('GET', '/scim/v2/ServiceProviderConfig');
    expect(spc.body.meta.location).toBe(`${BASE}/ServiceProviderConfig`);
    const types = await send('GET', '/scim/v2/ResourceTypes');
    expect(types.body.Resources.length).toBeGreaterThan(0);
    for (const t of types.body.Resources as { meta: { location: string } }[])
      expect(t.meta.location.startsWith(`${BASE}/ResourceTypes/`)).toBe(true);
    const schemas = await send('GET', '/scim/v2/Schemas');
    expect(schemas.body.Resources.length).toBeGreaterThan(0);
    for (const sc of schemas.body.Resources as { meta: { location: string } }[])
      expect(sc.meta.location.startsWith(`${BASE}/Schemas/`)).toBe(true);
  });
});
