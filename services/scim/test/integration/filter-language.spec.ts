import { ENTERPRISE, startScim, USER, type ScimTestApp } from '../support/scim-app';

// The whole RFC 7644 §3.4.2.2 filter language over HTTP on real PostgreSQL: a table of filters and
// the users/groups each must return (operators, precedence, not, value paths, sub-attributes,
// schema-qualified names, dates, caseExact rules, LIKE metacharacters, absent attributes).

const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

const USERS = {
  alice: {
    userName: 'Alice@Contoso.com',
    displayName: 'Alice Smith',
    externalId: 'A-1',
    title: 'Engineer',
    active: true,
    name: { givenName: 'Alice', familyName: 'Smith' },
    emails: [
      { type: 'work', value: 'alice@contoso.com', primary: true },
      { type: 'home', value: 'alice@home.org' },
    ],
    [ENTERPRISE]: { department: 'R&D' },
  },
  bob: {
    userName: 'bob@fabrikam.com',
    displayName: 'Bob Jones',
    externalId: 'b-2',
    title: '',
    active: false,
    emails: [{ type: 'home', value: 'BOB@contoso.com' }],
    [ENTERPRISE]: { department: 'Sales' },
  },
  carol: { userName: 'carol@contoso.com', active: true, name: { familyName: "O'Neil" } },
  dave: {
    userName: 'Dave_50%@x.io',
    displayName: 'Dave',
    title: 'Manager',
    active: true,
    emails: [{ type: 'work', value: 'dave@contoso.com' }],
    [ENTERPRISE]: { department: 'r&d' },
  },
} as const;
type Who = keyof typeof USERS;

describe('filters: the whole RFC 7644 language in PostgreSQL', () => {
  let s: ScimTestApp;
  let token: string;
  const ids = new Map<string, string>();
  const created = new Map<string, string>();
  beforeAll(async () => {
    s = await startScim();
    token = await s.directory('filters');
    for (const [who, body] of Object.entries(USERS)) {
      const r = await s.request('POST', '/scim/v2/Users', {
        token,
        body: { schemas: [USER, ENTERPRISE], ...body },
      });
      expect(r.status).toBe(201);
      ids.set(who, r.body.id);
      created.set(who, r.body.meta.created);
      await new Promise((res) => setTimeout(res, 5)); // distinct creation milliseconds
    }
    for (const [name, members] of [
      ['Engineers', ['alice', 'dave']],
      ['Sales Team', ['bob']],
      ['Empty', []],
    ] as const) {
      const r = await s.request('POST', '/scim/v2/Groups', {
        token,
        body: {
          schemas: [GROUP],
          displayName: name,
          members: members.map((m) => ({ value: ids.get(m) })),
        },
      });
      expect(r.status).toBe(201);
      ids.set(name, r.body.id);
    }
  });
  afterAll(async () => s.close());

  const list = async (type: 'Users' | 'Groups', filter: string) => {
    const r = await s.request('GET', `/scim/v2/${type}?filter=${encodeURIComponent(filter)}`, {
      token,
    });
    return r;
  };
  const namesOf = (body: { Resources: { id: string }[] }): string[] => {
    const byId = new Map([...ids].map(([k, v]) => [v, k]));
    return body.Resources.map((x) => byId.get(x.id) ?? x.id).sort();
  };

  const userCases: [string, Who[]][] = [
    ['userName eq "alice@contoso.com"', ['alice']],
    ['userName sw "ALICE"', ['alice']],
    ['userName ew ".COM"', ['alice', 'bob', 'carol']],
    ['userName co "contoso"', ['alice', 'carol']],
    ['userName co "e_50%"', ['dave']],
    ['userName co "a%"', []],
    ['userName co "_"', ['dave']],
    ['userName ne "alice@contoso.com"', ['bob', 'carol', 'dave']],
    ['userName gt "c"', ['carol', 'dave']],
    ['userName le "bob@fabrikam.com"', ['alice', 'bob']],
    ['displayName co "SMITH"', ['alice']],
    ['displayName pr', ['alice', 'bob', 'dave']],
    ['not (displayName pr)', ['carol']],
    ['displayName ne "alice smith"', ['bob', 'carol', 'dave']],
    ['displayName eq null', ['carol']],
    ['externalId eq "A-1"', ['alice']],
    ['externalId eq "a-1"', []],
    ['externalId pr', ['alice', 'bob']],
    ['title pr', ['alice', 'dave']],
    ['title eq "ENGINEER"', ['alice']],
    ['title gt "F"', ['dave']],
    ['title ne "engineer"', ['bob', 'carol', 'dave']],
    ['active eq false', ['bob']],
    ['active ne true', ['bob']],
    ['emails[type eq "work" and value co "@contoso"]', ['alice', 'dave']],
    ['emails[type eq "home" and value co "@contoso"]', ['bob']],
    ['emails.type eq "home" and emails.value co "@contoso"', ['alice', 'bob']],
    ['emails[not (type eq "work")]', ['alice', 'bob']],
    ['not (emails[type eq "work"])', ['bob', 'carol']],
    ['emails pr', ['alice', 'bob', 'dave']],
    ['emails.value ew ".ORG"', ['alice']],
    ['emails co "bob@"', ['bob']],
    ['emails.value eq "bob@CONTOSO.com"', ['bob']],
    ['emails.value sw "d"', ['dave']],
    ['emails.value ne "alice@home.org"', ['bob', 'carol', 'dave']],
    ['emails.primary eq true', ['alice']],
    ['name.familyName eq "o\'neil"', ['carol']],
    ['NAME.GIVENNAME pr', ['alice']],
    ['name pr', ['alice', 'carol']],
    ['urn:ietf:params:scim:schemas:core:2.0:User:name.givenName sw "al"', ['alice']],
    [
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "R&D"',
      ['alice', 'dave'],
    ],
    [
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department pr',
      ['alice', 'bob', 'dave'],
    ],
    // Precedence: not > and > or.
    ['userName sw "alice" or userName sw "bob" and active eq true', ['alice']],
    ['(userName sw "alice" or userName sw "bob") and active eq false', ['bob']],
    ['userName sw "bob" or userName sw "alice" and active eq false', ['bob']],
    ['not (active eq true) or title eq "manager"', ['bob', 'dave']],
    ['not (userName sw "a" or userName sw "b") and not (title pr)', ['carol']],
    ['groups.display eq "engineers"', ['alice', 'dave']],
    ['groups[display sw "SALES"]', ['bob']],
    ['groups pr', ['alice', 'bob', 'dave']],
    ['groups.type eq "direct"', ['alice', 'bob', 'dave']],
    ['meta.created gt "2000-01-01T00:00:00Z"', ['alice', 'bob', 'carol', 'dave']],
    ['meta.lastModified lt "2000-01-01T00:00:00+01:00"', []],
  ];

  it.each(userCases)('Users %s', async (filter, want) => {
    const r = await list('Users', filter);
    expect({ status: r.status, names: r.status === 200 ? namesOf(r.body) : r.body }).toEqual({
      status: 200,
      names: [...want].sort(),
    });
    expect(r.body.totalResults).toBe(want.length);
  });

  it('compares meta.created and meta.lastModified as instants (the millisecond a client was shown)', async () => {
    const carol = created.get('carol') as string;
    const at = async (f: string) => namesOf((await list('Users', f)).body);
    expect(await at(`meta.created eq "${carol}"`)).toEqual(['carol']);
    expect(await at(`meta.created ge "${carol}"`)).toEqual(['carol', 'dave']);
    expect(await at(`meta.created lt "${carol}"`)).toEqual(['alice', 'bob']);
    // The same instant in another offset.
    const shifted = new Date(Date.parse(carol) + 2 * 3600_000).toISOString().replace('Z', '+02:00');
    expect(await at(`meta.created eq "${shifted}"`)).toEqual(['carol']);
    // carol is in no group: nothing changed her since she was created (joining a group does).
    expect(await at(`meta.lastModified le "${carol}"`)).toEqual(['carol']);
  });

  it.each([
    ['displayName co "ENG"', ['Engineers']],
    ['displayName sw "s" or displayName eq "EMPTY"', ['Empty', 'Sales Team']],
    ['not (members pr)', ['Empty']],
    ['members[display co "bob"]', ['Sales Team']],
    ['members.type eq "user" and displayName ne "engineers"', ['Sales Team']],
    ['externalId pr', []],
  ])('Groups %s', async (filter, want) => {
    const r = await list('Groups', filter);
    expect({ status: r.status, names: namesOf(r.body) }).toEqual({ status: 200, names: want });
  });

  it('finds groups by member id (caseExact)', async () => {
    expect(namesOf((await list('Groups', `members.value eq "${ids.get('alice')}"`)).body)).toEqual([
      'Engineers',
    ]);
    expect(namesOf((await list('Groups', `members eq "${ids.get('bob')}"`)).body)).toEqual([
      'Sales Team',
    ]);
    expect(namesOf((await list('Users', `groups.value eq "${ids.get('Empty')}"`)).body)).toEqual(
      [],
    );
  });

  it.each([
    ['nosuch eq "x"', 'nosuch'],
    ['name.middle eq "x"', 'name.middle'],
    ['emails[kind eq "work"]', 'emails.kind'],
    ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:team eq "x"', 'team'],
    ['password eq "secret"', 'password'],
    ['meta.created gt "last week"', 'meta.created'],
    ['active gt false', 'active'],
    ['name eq "x"', 'name'],
  ])('refuses %s with 400 invalidFilter naming %s', async (filter, named) => {
    const r = await list('Users', filter);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({
      scimType: 'invalidFilter',
      detail: expect.stringContaining(named),
    });
  });

  it('sorts by sortBy/sortOrder (RFC 7644 §3.4.2.3): caseExact order, absent values last ascending, with filter and paging', async () => {
    const order = async (type: 'Users' | 'Groups', qs: string) => {
      const r = await s.request('GET', `/scim/v2/${type}?${qs}`, { token });
      expect(r.status).toBe(200);
      const byId = new Map([...ids].map(([k, v]) => [v, k]));
      return r.body.Resources.map((x: { id: string }) => byId.get(x.id));
    };
    expect(await order('Users', 'sortBy=userName')).toEqual(['alice', 'bob', 'carol', 'dave']);
    expect(await order('Users', 'sortBy=USERNAME&sortOrder=Descending')).toEqual([
      'dave',
      'carol',
      'bob',
      'alice',
    ]);
    // Without a value: last ascending, first descending (RFC 7644 §3.4.2.3).
    expect(await order('Users', 'sortBy=displayName&sortOrder=descending')).toEqual([
      'carol',
      'dave',
      'bob',
      'alice',
    ]);
    expect(await order('Users', 'sortBy=title')).toEqual(['bob', 'alice', 'dave', 'carol']);
    expect(await order('Users', 'sortBy=meta.created&sortOrder=descending')).toEqual([
      'dave',
      'carol',
      'bob',
      'alice',
    ]);
    // "R&D" and "r&d" tie case-insensitively (then in id order).
    const byDept = await order('Users', `sortBy=${encodeURIComponent(`${ENTERPRISE}:department`)}`);
    expect([[...byDept.slice(0, 2)].sort(), byDept.slice(2)]).toEqual([
      ['alice', 'dave'],
      ['bob', 'carol'],
    ]);
    expect(
      await order(
        'Users',
        `filter=${encodeURIComponent('userName ne "x"')}&sortBy=userName&startIndex=2&count=2`,
      ),
    ).toEqual(['bob', 'carol']);
    expect(await order('Groups', 'sortBy=displayName&sortOrder=descending')).toEqual([
      'Sales Team',
      'Engineers',
      'Empty',
    ]);
    for (const qs of [
      'sortBy=addresses',
      'sortBy=nosuch',
      'sortBy=name',
      'sortBy=password',
      'sortOrder=sideways',
      'sortBy=userName&cursor=',
    ]) {
      const r = await s.request('GET', `/scim/v2/Users?${qs}`, { token });
      expect({ qs, status: r.status, scimType: r.body.scimType }).toEqual({
        qs,
        status: 400,
        scimType: 'invalidValue',
      });
    }
    expect((await s.request('GET', '/scim/v2/ServiceProviderConfig', { token })).body.sort).toEqual(
      { supported: true },
    );
  });

  it('answers POST /Users/.search and /Groups/.search (RFC 7644 §3.4.3) exactly like the GET', async () => {
    const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
    const filter = 'emails[type eq "work"] or title eq "ENGINEER"';
    const get = await s.request(
      'GET',
      `/scim/v2/Users?filter=${encodeURIComponent(filter)}&sortBy=userName&sortOrder=descending&startIndex=1&count=5&attributes=userName,emails`,
      { token },
    );
    const post = await s.request('POST', '/scim/v2/Users/.search', {
      token,
      body: {
        schemas: [SEARCH],
        filter,
        sortBy: 'userName',
        sortOrder: 'descending',
        startIndex: 1,
        count: 5,
        attributes: ['userName', 'emails'],
      },
    });
    expect(post.status).toBe(200);
    expect(post.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(post.body).toEqual(get.body);
    expect(namesOf(post.body)).toEqual(['alice', 'dave']);
    const groups = await s.request('POST', '/filters/scim/v2/Groups/.search', {
      token,
      body: { schemas: [SEARCH], filter: 'displayName sw "e"', excludedAttributes: ['members'] },
    });
    expect({ status: groups.status, names: namesOf(groups.body) }).toEqual({
      status: 200,
      names: ['Empty', 'Engineers'],
    });
    for (const [body, scimType] of [
      [{ filter: 'userName pr' }, 'invalidSyntax'],
      [{ schemas: [SEARCH], filter: 5 }, 'invalidValue'],
      [{ schemas: [SEARCH], count: '5' }, 'invalidValue'],
      [{ schemas: [SEARCH], attributes: [1] }, 'invalidValue'],
      [{ schemas: [SEARCH], filter: 'nosuch pr' }, 'invalidFilter'],
    ] as const) {
      const r = await s.request('POST', '/scim/v2/Users/.search', { token, body });
      expect({ body, status: r.status, scimType: r.body.scimType }).toEqual({
        body,
        status: 400,
        scimType,
      });
    }
  });

  it('keeps AWS limits in the aws profile: only eq with quoted values joined by and, in AWS error shape', async () => {
    const aws = await s.directory('filters-aws', 'aws');
    await s.request('POST', '/scim/v2/Users', {
      token: aws,
      body: {
        schemas: [USER],
        userName: 'x@y.z',
        displayName: 'X',
        name: { givenName: 'X', familyName: 'Y' },
      },
    });
    const ok = await s.request(
      'GET',
      `/scim/v2/Users?filter=${encodeURIComponent('userName eq "X@Y.Z" and displayName eq "x"')}&sortBy=nosuch&sortOrder=x`,
      { token: aws },
    );
    expect(ok.body.totalResults).toBe(1); // sortBy is ignored there, as the aws ServiceProviderConfig says sort is unsupported
    for (const f of [
      'userName sw "x"',
      'not (userName eq "x")',
      'userName eq "x" or userName eq "y"',
      'emails[value eq "x"]',
      'title pr',
    ]) {
      const r = await s.request('GET', `/scim/v2/Users?filter=${encodeURIComponent(f)}`, {
        token: aws,
      });
      expect({ f, status: r.status }).toEqual({ f, status: 400 });
      expect(r.body).toMatchObject({
        schema: [expect.any(String)],
        exceptionRequestId: expect.any(String),
        detail: expect.not.stringContaining('ValidationException'),
      });
    }
  });
});
