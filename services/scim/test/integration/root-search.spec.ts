import {
  ENTERPRISE,
  GROUP,
  patchOp,
  startScim,
  USER,
  type Reply,
  type ScimTestApp,
} from '../support/scim-app';

// POST /.search on the SCIM base (RFC 7644 §3.4.3) over HTTP on real PostgreSQL: Users and Groups
// in one list, the filter applied to each type, paging over the union; and ServiceProviderConfig
// checked against what the service actually does.

const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

interface Resource {
  id: string;
  schemas: string[];
  meta?: { resourceType: string };
  [k: string]: unknown;
}

describe('POST /.search across resource types', () => {
  let s: ScimTestApp;
  let token: string;
  let other: string;
  let aws: string;
  const ids = new Map<string, string>();
  const id = (name: string): string => {
    const v = ids.get(name);
    if (v === undefined) throw new Error(`no resource ${name}`);
    return v;
  };

  beforeAll(async () => {
    s = await startScim();
    token = await s.directory('root-search');
    other = await s.directory('root-search-other');
    aws = await s.directory('root-search-aws', 'aws');
    for (const [userName, displayName, department] of <[string, string, string?][]>[
      ['alice@contoso.com', 'Alice Platform', 'Platform'],
      ['bob@contoso.com', 'Bob Builder', 'Sales'],
      ['carol@contoso.com', 'Carol Platform', undefined],
    ]) {
      const r = await s.request('POST', '/scim/v2/Users', {
        token,
        body: {
          schemas: [USER, ...(department ? [ENTERPRISE] : [])],
          userName,
          displayName,
          emails: [{ value: userName, type: 'work' }],
          ...(department ? { [ENTERPRISE]: { department } } : {}),
        },
      });
      expect(r.status).toBe(201);
      ids.set(userName, r.body.id);
    }
    for (const [displayName, members] of [
      ['Platform Team', ['alice@contoso.com', 'carol@contoso.com']],
      ['Sales', ['bob@contoso.com']],
    ] as const) {
      const r = await s.request('POST', '/scim/v2/Groups', {
        token,
        body: { schemas: [GROUP], displayName, members: members.map((m) => ({ value: id(m) })) },
      });
      expect(r.status).toBe(201);
      ids.set(displayName, r.body.id);
    }
    // Another directory's resources never show up.
    await s.request('POST', '/scim/v2/Users', {
      token: other,
      body: { schemas: [USER], userName: 'alice@other.com', displayName: 'Alice Platform' },
    });
    await s.request('POST', '/scim/v2/Groups', {
      token: other,
      body: { schemas: [GROUP], displayName: 'Platform Team' },
    });
  });
  afterAll(() => s.close());

  const search = (body: Record<string, unknown>, o: { t?: string; base?: string } = {}) =>
    s.request('POST', `${o.base ?? '/scim/v2'}/.search`, {
      token: o.t ?? token,
      body: { schemas: [SEARCH], ...body },
    });
  const names = (r: Reply): string[] =>
    (r.body.Resources as Resource[]).map((x) => String(x.userName ?? x.displayName)).sort();

  it('lists Users and Groups together, each with its own schemas and resource type', async () => {
    const r = await search({});
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(r.body).toMatchObject({
      schemas: [LIST],
      totalResults: 5,
      itemsPerPage: 5,
      startIndex: 1,
    });
    const resources = r.body.Resources as Resource[];
    // Users first, then Groups; each keeps the schemas and resourceType of its own type.
    expect(resources.map((x) => x.meta?.resourceType)).toEqual([
      'User',
      'User',
      'User',
      'Group',
      'Group',
    ]);
    for (const x of resources) {
      if (x.meta?.resourceType === 'User') {
        expect(x.schemas[0]).toBe(USER);
        expect(x.schemas).not.toContain(GROUP);
      } else expect(x.schemas).toEqual([GROUP]);
    }
    expect(names(r)).toEqual([
      'Platform Team',
      'Sales',
      'alice@contoso.com',
      'bob@contoso.com',
      'carol@contoso.com',
    ]);
    // Served under the directory-qualified base as well.
    const q = await search({}, { base: '/root-search/scim/v2' });
    expect(q.body.totalResults).toBe(5);
  });

  it('applies the filter to every type; an attribute one type does not define matches nothing there', async () => {
    const cases: [string, string[]][] = [
      ['displayName co "platform"', ['Platform Team', 'alice@contoso.com', 'carol@contoso.com']],
      ['userName sw "b"', ['bob@contoso.com']],
      [`members.value eq "${id('bob@contoso.com')}"`, ['Sales']],
      [`members[value eq "${id('alice@contoso.com')}"]`, ['Platform Team']],
      ['emails[type eq "work" and value co "carol"]', ['carol@contoso.com']],
      [`${ENTERPRISE}:department eq "sales"`, ['bob@contoso.com']],
      ['displayName eq "sales" or userName eq "ALICE@contoso.com"', ['Sales', 'alice@contoso.com']],
      ['not (displayName co "platform")', ['Sales', 'bob@contoso.com']],
      ['meta.created gt "2000-01-01T00:00:00Z" and displayName sw "s"', ['Sales']],
      [`id eq "${id('Sales')}" or id eq "${id('bob@contoso.com')}"`, ['Sales', 'bob@contoso.com']],
      // An attribute a type does not define is absent there: `ne` matches, as for an unset one.
      [
        'userName ne "alice@contoso.com" and displayName co "a"',
        ['Platform Team', 'Sales', 'carol@contoso.com'],
      ],
      ['title pr', []],
    ];
    for (const [filter, expected] of cases) {
      const r = await search({ filter });
      expect({ filter, status: r.status, names: r.status === 200 ? names(r) : r.body }).toEqual({
        filter,
        status: 200,
        names: expected,
      });
      expect(r.body.totalResults).toBe(expected.length);
    }
  });

  it('refuses names no type defines and the refusals of the defining type with 400 invalidFilter', async () => {
    for (const [filter, named] of [
      ['nosuch eq "x"', 'nosuch'],
      ['displayName eq "x" or nosuch pr', 'nosuch'],
      ['emails[nosuch eq "x"]', 'emails.nosuch'],
      ['password eq "x"', 'password'],
      ['meta.location pr', 'meta.location'],
      ['displayName eq', undefined],
    ] as const) {
      const r = await search({ filter });
      expect({ filter, status: r.status, scimType: r.body.scimType }).toEqual({
        filter,
        status: 400,
        scimType: 'invalidFilter',
      });
      if (named) expect(r.body.detail).toContain(named);
    }
  });

  it('pages over the union: startIndex/count across the types, totalResults of all', async () => {
    const all = (await search({})).body.Resources.map((x: Resource) => x.id);
    expect(all).toHaveLength(5);
    for (const count of [1, 2, 3, 4]) {
      const seen: string[] = [];
      for (let start = 1; start <= 6; start += count) {
        const r = await search({ startIndex: start, count });
        expect(r.body).toMatchObject({
          totalResults: 5,
          startIndex: start,
          itemsPerPage: Math.max(0, Math.min(count, 5 - start + 1)),
        });
        seen.push(...r.body.Resources.map((x: Resource) => x.id));
      }
      expect({ count, seen }).toEqual({ count, seen: all });
    }
    const filtered = await search({ filter: 'displayName co "platform"', startIndex: 3, count: 5 });
    expect(filtered.body).toMatchObject({ totalResults: 3, itemsPerPage: 1 });
    expect(filtered.body.Resources[0].displayName).toBe('Platform Team');
    const none = await search({ count: 0 });
    expect(none.body).toMatchObject({ totalResults: 5, itemsPerPage: 0, Resources: [] });
  });

  it('projects each resource with attributes / excludedAttributes, names unknown to a type are ignored there', async () => {
    const r = await search({
      attributes: ['userName', 'displayName'],
      filter: 'displayName sw "s"',
    });
    expect(r.body.Resources).toEqual([{ schemas: [GROUP], id: id('Sales'), displayName: 'Sales' }]);
    const ex = await search({
      excludedAttributes: ['members', 'emails'],
      filter: 'displayName co "platform"',
    });
    for (const x of ex.body.Resources as Resource[]) {
      expect(x.members).toBeUndefined();
      expect(x.emails).toBeUndefined();
      expect(x.displayName).toEqual(expect.stringContaining('Platform'));
    }
  });

  it('refuses what it does not do: sortBy, a body that is not a SearchRequest', async () => {
    const sorted = await search({ sortBy: 'displayName' });
    expect(sorted).toMatchObject({ status: 400, body: { scimType: 'invalidValue' } });
    expect(sorted.body.detail).toMatch(/sortBy/);
    const wrong = await s.request('POST', '/scim/v2/.search', { token, body: { filter: 'id pr' } });
    expect(wrong).toMatchObject({ status: 400, body: { scimType: 'invalidSyntax' } });
    expect(
      (await s.request('POST', '/scim/v2/.search', { body: { schemas: [SEARCH] } })).status,
    ).toBe(401);
  });

  it('is not offered by the aws profile (IAM Identity Center has no search at the root): 404 in AWS shape', async () => {
    const r = await search({}, { t: aws });
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({
      schema: [expect.any(String)],
      exceptionRequestId: expect.any(String),
      detail: expect.stringContaining('ResourceNotFoundException'),
    });
  });

  describe('ServiceProviderConfig says what the service does', () => {
    it('filter.maxResults caps pages, sort and etag work, patch works, bulk is not there', async () => {
      const spc = (await s.request('GET', '/scim/v2/ServiceProviderConfig', { token })).body;
      expect(spc).toMatchObject({
        patch: { supported: true },
        bulk: { supported: false },
        filter: { supported: true, maxResults: s.config.SCIM_MAX_PAGE_SIZE },
        sort: { supported: true },
        etag: { supported: true },
        changePassword: { supported: false },
      });
      const page = await s.request('GET', `/scim/v2/Users?count=${spc.filter.maxResults + 5}`, {
        token,
      });
      expect(page.body.itemsPerPage).toBeLessThanOrEqual(spc.filter.maxResults);
      const sorted = await s.request('GET', '/scim/v2/Users?sortBy=userName&sortOrder=descending', {
        token,
      });
      expect(sorted.body.Resources.map((x: Resource) => x.userName)).toEqual([
        'carol@contoso.com',
        'bob@contoso.com',
        'alice@contoso.com',
      ]);
      const user = await s.request('GET', `/scim/v2/Users/${id('bob@contoso.com')}`, { token });
      expect(user.headers.etag).toBe(user.body.meta.version);
      const stale = await s.request('PATCH', `/scim/v2/Users/${id('bob@contoso.com')}`, {
        token,
        headers: { 'if-match': 'W/"999"' },
        body: patchOp({ op: 'replace', path: 'title', value: 'x' }),
      });
      expect(stale.status).toBe(412);
      expect((await s.request('POST', '/scim/v2/Bulk', { token, body: {} })).status).toBe(501);
    });

    it('/Schemas over HTTP describes every attribute and sub-attribute', async () => {
      const r = await s.request('GET', '/scim/v2/Schemas', { token });
      type A = { name: string; description: string; subAttributes?: A[] };
      const missing = (r.body.Resources as { id: string; attributes: A[] }[]).flatMap((d) =>
        d.attributes.flatMap((a) =>
          [a, ...(a.subAttributes ?? [])]
            .filter((x) => !x.description?.trim() || x.description === x.name)
            .map((x) => `${d.id}:${a.name}.${x.name}`),
        ),
      );
      expect(missing).toEqual([]);
    });
  });
});
