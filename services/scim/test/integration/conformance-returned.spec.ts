import {
  ENTERPRISE,
  GROUP,
  patchOp,
  startScim,
  USER,
  type Reply,
  type ScimTestApp,
} from '../support/scim-app';

// RFC 7643 §2.4 "returned", as /Schemas advertises it, holds in every response that returns a
// resource: an attribute "always" or "default" that the resource has is in the single GET, the
// list, both searches and the write responses alike; "never" (password) is in none of them.
// Driven by /Schemas, so an attribute added there is covered.

interface SchemaAttr {
  name: string;
  returned: 'always' | 'default' | 'request' | 'never';
  mutability: string;
}
type Doc = Record<string, unknown>;

describe('returned characteristics (RFC 7643 §2.4) in every response', () => {
  let s: ScimTestApp;
  let token: string;
  const schemas = new Map<string, SchemaAttr[]>();
  beforeAll(async () => {
    s = await startScim();
    token = await s.directory('returned');
    const r = await s.request('GET', '/scim/v2/Schemas', { token });
    for (const d of r.body.Resources as { id: string; attributes: SchemaAttr[] }[])
      schemas.set(d.id, d.attributes);
  });
  afterAll(async () => s.close());

  const req = (method: string, url: string, body?: unknown) =>
    s.request(method, url, { token, body });
  const ok = (r: Reply, status = 200): Doc => {
    expect({ status: r.status, body: r.body }).toMatchObject({ status });
    return r.body as Doc;
  };
  const only = (r: Reply): Doc => {
    const list = ok(r);
    expect(list.totalResults).toBe(1);
    return (list.Resources as Doc[])[0] ?? {};
  };

  /** Names (core, and `urn:attr` for an extension's) of the attributes with these characteristics. */
  const names = (urns: string[], keep: (a: SchemaAttr) => boolean): string[] =>
    urns.flatMap((urn, i) =>
      (schemas.get(urn) ?? []).filter(keep).map((a) => (i === 0 ? a.name : `${urn}:${a.name}`)),
    );
  const has = (doc: Doc, name: string): boolean => {
    const [, urn, attr] = /^(urn:.*):([^:]+)$/.exec(name) ?? [];
    if (urn === undefined || attr === undefined) return doc[name] !== undefined;
    return (doc[urn] as Doc | undefined)?.[attr] !== undefined;
  };
  /** Which of the named attributes `doc` holds. */
  const held = (doc: Doc, list: string[]) => list.filter((n) => has(doc, n));

  const user = {
    schemas: [USER, ENTERPRISE],
    userName: 'returned.user@contoso.com',
    externalId: 'ext-returned',
    name: { givenName: 'Rita', familyName: 'Turner', formatted: 'Rita Turner' },
    displayName: 'Rita Turner',
    nickName: 'Rit',
    profileUrl: 'https://contoso.example/rita',
    title: 'Engineer',
    userType: 'Employee',
    preferredLanguage: 'en-US',
    locale: 'en-US',
    timezone: 'America/Los_Angeles',
    active: true,
    password: 'P@ssw0rd-never-returned',
    emails: [{ value: 'rita@contoso.com', type: 'work', primary: true }],
    phoneNumbers: [{ value: '+1 555 0100', type: 'work' }],
    ims: [{ value: 'rita', type: 'xmpp' }],
    photos: [{ value: 'https://contoso.example/rita.png', type: 'photo' }],
    addresses: [{ type: 'work', locality: 'Seattle', country: 'US' }],
    entitlements: [{ value: 'e1' }],
    roles: [{ value: 'r1' }],
    x509Certificates: [{ value: 'MIIB' }],
    [ENTERPRISE]: {
      employeeNumber: '42',
      costCenter: 'cc',
      organization: 'Contoso',
      division: 'R&D',
      department: 'Eng',
      manager: { value: 'manager-id' },
    },
  };

  it('User: every default attribute it has is in the GET, the list, both searches and the POST/PUT/PATCH responses; password in none', async () => {
    const urns = [USER, ENTERPRISE];
    const shown = names(urns, (a) => a.returned === 'always' || a.returned === 'default');
    const never = names(urns, (a) => a.returned === 'never');
    expect(never).toEqual(['password']);
    // The body sets every attribute a client can write, so every one of them is checked.
    const writable = names(
      urns,
      (a) => a.mutability === 'readWrite' || a.mutability === 'writeOnly',
    );
    expect(held(user, writable)).toEqual(writable);

    const created = ok(await req('POST', '/scim/v2/Users', user), 201);
    const id = created.id as string;
    const g = ok(
      await req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'Returned' }),
      201,
    );
    expect(
      (
        await req(
          'PATCH',
          `/scim/v2/Groups/${g.id}`,
          patchOp({ op: 'add', path: 'members', value: [{ value: id }] }),
        )
      ).status,
    ).toBe(204);

    const one = ok(await req('GET', `/scim/v2/Users/${id}`));
    // Everything written (but password) and what the service assigns, groups included.
    expect(held(one, shown).sort()).toEqual([...shown].sort());

    const byId = encodeURIComponent(`id eq "${id}"`);
    const responses: [string, Doc][] = [
      ['GET /Users?filter', only(await req('GET', `/scim/v2/Users?filter=${byId}`))],
      [
        'GET /Users',
        (ok(await req('GET', '/scim/v2/Users?count=1000')).Resources as Doc[]).find(
          (r) => r.id === id,
        ) ?? {},
      ],
      [
        'POST /Users/.search',
        only(
          await req('POST', '/scim/v2/Users/.search', {
            schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
            filter: `id eq "${id}"`,
          }),
        ),
      ],
      [
        'POST /.search',
        only(
          await req('POST', '/scim/v2/.search', {
            schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
            filter: `id eq "${id}"`,
          }),
        ),
      ],
      ['PUT', ok(await req('PUT', `/scim/v2/Users/${id}`, user))],
      [
        'PATCH',
        ok(
          await req(
            'PATCH',
            `/scim/v2/Users/${id}`,
            patchOp({ op: 'replace', path: 'title', value: 'Lead' }),
          ),
        ),
      ],
    ];
    for (const [where, doc] of responses) {
      expect({ where, attributes: held(doc, shown).sort() }).toEqual({
        where,
        attributes: held(one, shown).sort(),
      });
      expect({ where, never: held(doc, never) }).toEqual({ where, never: [] });
    }
    // The POST answered before the user joined a group: all it had then.
    expect(held(created, shown).sort()).toEqual(shown.filter((n) => n !== 'groups').sort());
    expect(held(created, never)).toEqual([]);
  });

  it('User: excludedAttributes=groups, or attributes without it, leave groups out of lists and writes', async () => {
    const u = ok(
      await req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'returned.x@contoso.com' }),
      201,
    );
    const id = String(u.id);
    const g = { schemas: [GROUP], displayName: 'Returned x', members: [{ value: id }] };
    expect((await req('POST', '/scim/v2/Groups', g)).status).toBe(201);
    const byId = encodeURIComponent(`id eq "${id}"`);
    expect(only(await req('GET', `/scim/v2/Users?filter=${byId}`)).groups).toHaveLength(1);
    expect(
      only(await req('GET', `/scim/v2/Users?filter=${byId}&excludedAttributes=groups`)).groups,
    ).toBeUndefined();
    expect(
      Object.keys(only(await req('GET', `/scim/v2/Users?filter=${byId}&attributes=userName`))),
    ).toEqual(['schemas', 'id', 'userName']);
    const title = (value: string) => patchOp({ op: 'replace', path: 'title', value });
    expect(ok(await req('PATCH', `/scim/v2/Users/${id}`, title('A'))).groups).toHaveLength(1);
    const excluded = ok(
      await req('PATCH', `/scim/v2/Users/${id}?excludedAttributes=groups`, title('B')),
    );
    expect(excluded).toMatchObject({ title: 'B' });
    expect(excluded.groups).toBeUndefined();
  });

  it('Group: every default attribute it has is in the GET, the list, both searches and the PUT response', async () => {
    const shown = names([GROUP], (a) => a.returned === 'always' || a.returned === 'default');
    const member = ok(
      await req('POST', '/scim/v2/Users', {
        schemas: [USER],
        userName: 'returned.member@contoso.com',
      }),
      201,
    );
    const body = {
      schemas: [GROUP],
      displayName: 'Returned group',
      externalId: 'ext-group',
      members: [{ value: member.id }],
    };
    const created = ok(await req('POST', '/scim/v2/Groups', body), 201);
    const id = created.id as string;
    const one = ok(await req('GET', `/scim/v2/Groups/${id}`));
    expect(held(one, shown).sort()).toEqual([...shown].sort());
    const byId = encodeURIComponent(`id eq "${id}"`);
    const search = {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
      filter: `id eq "${id}"`,
    };
    const responses: [string, Doc][] = [
      ['POST', created],
      ['GET /Groups?filter', only(await req('GET', `/scim/v2/Groups?filter=${byId}`))],
      ['POST /Groups/.search', only(await req('POST', '/scim/v2/Groups/.search', search))],
      ['POST /.search', only(await req('POST', '/scim/v2/.search', search))],
      ['PUT', ok(await req('PUT', `/scim/v2/Groups/${id}`, body))],
    ];
    for (const [where, doc] of responses)
      expect({ where, attributes: held(doc, shown).sort() }).toEqual({
        where,
        attributes: held(one, shown).sort(),
      });
  });
});
