import { Pool } from 'pg';
import { PrismaService } from '../../src/db/prisma.service';
import {
  ENTERPRISE,
  GROUP,
  patchOp,
  expectScimError,
  startScim,
  USER,
  type Reply,
  type ScimTestApp,
} from '../support/scim-app';

// Writes (POST, PUT, the result of PATCH) are checked against the schema /Schemas advertises
// (RFC 7643 §2, §3, §7; RFC 7644 §3.3, §3.5.1, §3.12): each refused shape answers 400 with its
// scimType and a detail naming the attribute, and leaves nothing stored or changed. Write responses
// honour attributes/excludedAttributes (RFC 7644 §3.9), and a PUT without `active` keeps the
// stored flag.

const ADSCIM_GROUP = 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group';

type Body = Record<string, unknown>;
/** [what, body additions (or a whole body), scimType, text the detail must contain] */
type Case = [string, Body, string, string];

/** Refused user shapes; `{ userName }` and `schemas: [USER]` are added unless the case sets them. */
const USER_CASES: Case[] = [
  [
    'a number for a string sub-attribute',
    { name: { givenName: 5 } },
    'invalidValue',
    'name.givenName',
  ],
  ['a number as an email value', { emails: [{ value: 7 }] }, 'invalidValue', 'emails[0].value'],
  ['a string as an email', { emails: ['x@example.com'] }, 'invalidValue', 'emails[0]'],
  ['an object for a string attribute', { nickName: {} }, 'invalidValue', 'nickName'],
  [
    'an object inside a complex attribute',
    { name: { givenName: { a: 1 } } },
    'invalidValue',
    'name.givenName',
  ],
  [
    'a multi-valued attribute as a single value',
    { emails: { value: 'a@example.com' } },
    'invalidValue',
    'emails',
  ],
  ['a single-valued attribute as an array', { title: ['Boss'] }, 'invalidValue', 'title'],
  ['a complex attribute as a string', { name: 'Ada Lovelace' }, 'invalidValue', 'name'],
  [
    'a non-boolean primary',
    { emails: [{ value: 'a@example.com', primary: 'maybe' }] },
    'invalidValue',
    'emails[0].primary',
  ],
  ['a number as a boolean', { active: 1 }, 'invalidValue', 'active'],
  ['a non-string reference', { profileUrl: true }, 'invalidValue', 'profileUrl'],
  [
    'a non-string reference sub-attribute',
    { photos: [{ value: 5 }] },
    'invalidValue',
    'photos[0].value',
  ],
  ['a null element', { emails: [null] }, 'invalidValue', 'emails[0]'],
  ['a number as externalId', { externalId: 5 }, 'invalidValue', 'externalId'],
  ['a number as password', { password: 5 }, 'invalidValue', 'password'],
  [
    'a wrong type in the enterprise extension',
    { schemas: [USER, ENTERPRISE], [ENTERPRISE]: { manager: { value: 5 } } },
    'invalidValue',
    `${ENTERPRISE}:manager.value`,
  ],
  [
    'a non-string $ref',
    { schemas: [USER, ENTERPRISE], [ENTERPRISE]: { manager: { $ref: 5 } } },
    'invalidValue',
    `${ENTERPRISE}:manager.$ref`,
  ],
  [
    'the extension as a string',
    { schemas: [USER, ENTERPRISE], [ENTERPRISE]: 'Sales' },
    'invalidValue',
    ENTERPRISE,
  ],
  ['an unknown attribute', { favouriteColour: 'blue' }, 'invalidSyntax', 'favouriteColour'],
  ['an unknown sub-attribute', { name: { nickname: 'Ada' } }, 'invalidSyntax', 'name.nickname'],
  [
    'an unknown sub-attribute of a value',
    { emails: [{ value: 'a@example.com', label: 'x' }] },
    'invalidSyntax',
    'emails[0].label',
  ],
  [
    'an unknown extension attribute',
    { schemas: [USER, ENTERPRISE], [ENTERPRISE]: { floor: '3' } },
    'invalidSyntax',
    `${ENTERPRISE}:floor`,
  ],
  [
    'an extension attribute outside its extension object',
    { [`${ENTERPRISE}:department`]: 'Sales' },
    'invalidSyntax',
    `${ENTERPRISE}:department`,
  ],
  [
    'an unsupported extension object',
    { 'urn:example:ext:1.0:User': { a: 'b' } },
    'invalidSyntax',
    'urn:example:ext:1.0:User',
  ],
  ['a prototype-named attribute', { constructor: 'c' }, 'invalidSyntax', 'constructor'],
  ['no schemas', { schemas: undefined }, 'invalidSyntax', 'schemas'],
  ['schemas as a string', { schemas: USER }, 'invalidSyntax', 'schemas'],
  ['schemas holding a number', { schemas: [USER, 5] }, 'invalidSyntax', 'schemas'],
  ['empty schemas', { schemas: [] }, 'invalidSyntax', 'schemas'],
  ['schemas without the core schema', { schemas: [ENTERPRISE] }, 'invalidSyntax', USER],
  [
    'an unsupported schema URN',
    { schemas: [USER, 'urn:example:ext:1.0:User'] },
    'invalidValue',
    'urn:example:ext:1.0:User',
  ],
  ['the Group schema on /Users', { schemas: [GROUP] }, 'invalidValue', GROUP],
  [
    'Entra’s ADSCIM group URN on /Users',
    { schemas: [USER, ADSCIM_GROUP] },
    'invalidValue',
    ADSCIM_GROUP,
  ],
];

/** Refused group shapes; `{ displayName }` and `schemas: [GROUP]` are added unless the case sets them. */
const GROUP_CASES: Case[] = [
  ['a number as displayName', { displayName: 5 }, 'invalidValue', 'displayName'],
  ['an unknown attribute', { description: 'x' }, 'invalidSyntax', 'description'],
  ['members as a single object', { members: { value: 'MEMBER' } }, 'invalidValue', 'members'],
  ['a number as a member value', { members: [{ value: 5 }] }, 'invalidValue', 'members[0].value'],
  [
    'an unknown member sub-attribute',
    { members: [{ value: 'MEMBER', role: 'owner' }] },
    'invalidSyntax',
    'members[0].role',
  ],
  [
    'a number as a member $ref',
    { members: [{ value: 'MEMBER', $ref: 1 }] },
    'invalidValue',
    'members[0].$ref',
  ],
  ['no schemas', { schemas: undefined }, 'invalidSyntax', 'schemas'],
  ['the User schema on /Groups', { schemas: [USER] }, 'invalidValue', USER],
  [
    'the enterprise extension on /Groups',
    { schemas: [GROUP, ENTERPRISE] },
    'invalidValue',
    ENTERPRISE,
  ],
];

describe('writes are checked against the advertised schema', () => {
  let s: ScimTestApp;
  let token: string;
  let seq = 0;
  beforeAll(async () => {
    s = await startScim();
    token = await s.directory('write-schema');
  });
  afterAll(async () => s.close());

  const next = (prefix: string) => `${prefix}-${++seq}`;
  const req = (method: string, url: string, body?: unknown) =>
    s.request(method, url, { token, body });
  const get = async (url: string) => {
    const r = await req('GET', url);
    expect(r.status).toBe(200);
    return r.body as Body;
  };
  const count = async (type: 'Users' | 'Groups', filter: string) =>
    (await req('GET', `/scim/v2/${type}?filter=${encodeURIComponent(filter)}`)).body
      .totalResults as number;
  const expectRefused = (r: Reply, scimType: string, detail: string) => {
    expectScimError(r, 400, scimType);
    expect(r.body.detail).toContain(detail);
  };
  /** The case's body: defaults, then its additions (an `undefined` addition removes the key). */
  const bodyOf = (defaults: Body, add: Body) =>
    Object.fromEntries(
      Object.entries({ ...defaults, ...add }).filter(([, v]) => v !== undefined),
    ) as Body;
  const createUser = async (extra: Body = {}) => {
    const r = await req('POST', '/scim/v2/Users', {
      schemas: [USER],
      userName: next('user'),
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      emails: [{ value: `${next('mail')}@example.com`, type: 'work', primary: true }],
      ...extra,
    });
    expect(r.status).toBe(201);
    return r.body as { id: string; userName: string } & Body;
  };
  const createGroup = async (extra: Body = {}) => {
    const r = await req('POST', '/scim/v2/Groups', {
      schemas: [GROUP],
      displayName: next('group'),
      ...extra,
    });
    expect(r.status).toBe(201);
    return r.body as { id: string; displayName: string } & Body;
  };

  describe('POST /Users', () => {
    it.each(USER_CASES)('refuses %s, storing nothing', async (_what, add, scimType, detail) => {
      const userName = next('refused');
      const r = await req('POST', '/scim/v2/Users', bodyOf({ schemas: [USER], userName }, add));
      expectRefused(r, scimType, detail);
      expect(await count('Users', `userName eq "${userName}"`)).toBe(0);
    });

    it('ignores readOnly attributes (id, meta, groups, manager.displayName) instead of refusing them', async () => {
      const r = await req('POST', '/scim/v2/Users', {
        schemas: [USER, ENTERPRISE],
        id: 'chosen-by-client',
        userName: next('readonly'),
        meta: { resourceType: 'User', version: 'W/"99"' },
        groups: [{ value: 'g-1', display: 'Admins' }],
        [ENTERPRISE]: { manager: { value: 'm-1', displayName: 'The Boss' } },
      });
      expect(r.status).toBe(201);
      expect(r.body.id).not.toBe('chosen-by-client');
      expect(r.body.meta.version).toBe('W/"1"');
      const got = await get(`/scim/v2/Users/${r.body.id}`);
      expect(got.groups).toBeUndefined();
      expect(got[ENTERPRISE]).toEqual({ manager: { value: 'm-1' } });
    });

    it('accepts names in any case, string booleans and nulls; declares a carried extension; canonical schemas', async () => {
      const userName = next('lenient');
      const r = await req('POST', '/scim/v2/Users', {
        SCHEMAS: [USER.toUpperCase(), USER],
        USERNAME: userName,
        Name: { GIVENNAME: 'Ada' },
        Active: 'False',
        emails: [{ Value: 'ada@example.com', PRIMARY: 'True' }],
        nickName: null,
        [ENTERPRISE.toLowerCase()]: { Department: 'R&D' },
      });
      expect(r.status).toBe(201);
      const got = await get(`/scim/v2/Users/${r.body.id}`);
      expect(got).toMatchObject({
        schemas: [USER, ENTERPRISE],
        USERNAME: userName,
        Name: { GIVENNAME: 'Ada' },
        Active: false,
        emails: [{ Value: 'ada@example.com', PRIMARY: true }],
        [ENTERPRISE.toLowerCase()]: { Department: 'R&D' },
      });
      expect('nickName' in got).toBe(false);
      expect(await count('Users', `userName eq "${userName}" and active eq false`)).toBe(1);
      expect(await count('Users', `${ENTERPRISE}:department eq "r&d"`)).toBe(1);
    });

    it('refuses the same shapes on PUT, changing nothing', async () => {
      const u = await createUser({ title: 'Engineer' });
      const before = await get(`/scim/v2/Users/${u.id}`);
      for (const [, add, scimType, detail] of USER_CASES) {
        const r = await req(
          'PUT',
          `/scim/v2/Users/${u.id}`,
          bodyOf({ schemas: [USER], userName: u.userName }, add),
        );
        expect({ add, status: r.status, scimType: r.body.scimType }).toEqual({
          add,
          status: 400,
          scimType,
        });
        expect(r.body.detail).toContain(detail);
      }
      expect(await get(`/scim/v2/Users/${u.id}`)).toEqual(before);
    });
  });

  describe('PATCH /Users: the result is checked like a PUT body', () => {
    const cases: [string, unknown, string, string][] = [
      [
        'a path naming an unknown attribute',
        { op: 'add', path: 'favouriteColour', value: 'blue' },
        'invalidPath',
        'favouriteColour',
      ],
      [
        'a path naming an unknown sub-attribute',
        { op: 'replace', path: 'name.nickname', value: 'A' },
        'invalidPath',
        'name.nickname',
      ],
      [
        'a path naming an unknown extension attribute',
        { op: 'add', path: `${ENTERPRISE}:floor`, value: '3' },
        'invalidPath',
        `${ENTERPRISE}:floor`,
      ],
      [
        'a value filter path naming an unknown sub-attribute',
        { op: 'replace', path: 'emails[type eq "work"].label', value: 'x' },
        'invalidPath',
        'emails.label',
      ],
      [
        'a path-less unknown attribute',
        { op: 'add', value: { favouriteColour: 'blue' } },
        'invalidSyntax',
        'favouriteColour',
      ],
      [
        'a path-less unknown sub-attribute',
        { op: 'add', value: { name: { nickname: 'A' } } },
        'invalidSyntax',
        'name.nickname',
      ],
      [
        'an unknown sub-attribute in a value',
        { op: 'add', path: 'emails', value: [{ value: 'b@example.com', label: 'x' }] },
        'invalidSyntax',
        'emails[1].label',
      ],
      [
        'an object for a string',
        { op: 'replace', path: 'nickName', value: {} },
        'invalidValue',
        'nickName',
      ],
      [
        'a number for a sub-attribute',
        { op: 'replace', path: 'name.givenName', value: 5 },
        'invalidValue',
        'name.givenName',
      ],
      [
        'a string as an email',
        { op: 'add', path: 'emails', value: 'b@example.com' },
        'invalidValue',
        'emails[1]',
      ],
      [
        'an array for a single-valued attribute',
        { op: 'replace', path: 'title', value: ['a', 'b'] },
        'invalidValue',
        'title',
      ],
      [
        'a non-boolean active',
        { op: 'replace', path: 'active', value: 'maybe' },
        'invalidValue',
        'active',
      ],
      [
        'a wrong type through a value filter',
        { op: 'replace', path: 'emails[type eq "work"].primary', value: 'sometimes' },
        'invalidValue',
        'primary',
      ],
      [
        'a wrong type in the extension',
        { op: 'replace', path: `${ENTERPRISE}:manager`, value: { value: 5 } },
        'invalidValue',
        `${ENTERPRISE}:manager.value`,
      ],
      [
        'a readOnly sub-attribute as the target',
        { op: 'add', path: `${ENTERPRISE}:manager.displayName`, value: 'Boss' },
        'mutability',
        'manager.displayName',
      ],
    ];

    it.each(cases)('refuses %s, changing nothing', async (_what, op, scimType, detail) => {
      const u = await createUser({ title: 'Engineer' });
      const before = await get(`/scim/v2/Users/${u.id}`);
      const r = await req('PATCH', `/scim/v2/Users/${u.id}`, patchOp(op));
      expectRefused(r, scimType, detail);
      expect(await get(`/scim/v2/Users/${u.id}`)).toEqual(before);
    });

    it('applies what Entra sends: string booleans, enterprise attributes by path with only the core schema declared', async () => {
      const u = await createUser();
      expect(u.schemas).toEqual([USER]);
      const r = await req(
        'PATCH',
        `/scim/v2/Users/${u.id}`,
        patchOp(
          { op: 'Replace', path: 'active', value: 'False' },
          { op: 'Add', path: `${ENTERPRISE}:department`, value: 'Sales' },
          { op: 'Add', path: `${ENTERPRISE}:manager`, value: 'm-1' },
          { op: 'Replace', path: 'emails[type eq "work"].primary', value: 'True' },
        ),
      );
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        schemas: [USER, ENTERPRISE],
        active: false,
        emails: [expect.objectContaining({ primary: true })],
        [ENTERPRISE]: { department: 'Sales', manager: { value: 'm-1' } },
      });
    });

    describe('a user stored before the check, holding what it now refuses', () => {
      let db: Pool;
      beforeAll(() => {
        db = new Pool({ connectionString: s.databaseUrl, max: 1 });
      });
      afterAll(async () => db.end());

      /** Writes `data` into the stored document as an older version could have. */
      const storeLegacy = async (id: string, extra: Body) => {
        const { rows } = await db.query<{ data: Body }>(
          'SELECT data FROM scim_users WHERE id = $1',
          [id],
        );
        await db.query('UPDATE scim_users SET data = $1::json WHERE id = $2', [
          JSON.stringify({ ...rows[0]?.data, ...extra }),
          id,
        ]);
      };

      it('stays patchable; a PATCH touching the refused value must fix or remove it', async () => {
        const u = await createUser();
        await storeLegacy(u.id, {
          legacyAttr: 'kept',
          name: { givenName: 'Ada', oldPart: 1 },
          emails: [{ value: 'old@example.com', label: 'legacy' }],
        });
        const ok = await req(
          'PATCH',
          `/scim/v2/Users/${u.id}`,
          patchOp(
            { op: 'replace', path: 'title', value: 'Countess' },
            { op: 'replace', path: 'name.familyName', value: 'King' },
            { op: 'add', path: 'emails', value: [{ value: 'new@example.com', type: 'home' }] },
          ),
        );
        expect(ok.status).toBe(200);
        expect(ok.body).toMatchObject({
          title: 'Countess',
          legacyAttr: 'kept',
          name: { givenName: 'Ada', oldPart: 1, familyName: 'King' },
          emails: [
            { value: 'old@example.com', label: 'legacy' },
            { value: 'new@example.com', type: 'home' },
          ],
        });
        const version = ok.body.meta.version;
        const touch = await req(
          'PATCH',
          `/scim/v2/Users/${u.id}`,
          patchOp({ op: 'replace', path: 'name.oldPart', value: 2 }),
        );
        expectScimError(touch, 400, 'invalidPath');
        expect((await get(`/scim/v2/Users/${u.id}`)).meta).toMatchObject({ version });
        const removed = await req(
          'PATCH',
          `/scim/v2/Users/${u.id}`,
          patchOp({ op: 'remove', path: 'legacyAttr' }, { op: 'remove', path: 'name.oldPart' }),
        );
        expect(removed.status).toBe(200);
        expect(removed.body.legacyAttr).toBeUndefined();
        expect(removed.body.name).toEqual({ givenName: 'Ada', familyName: 'King' });
      });
    });
  });

  describe('Groups', () => {
    let member: string;
    beforeAll(async () => {
      member = (await createUser()).id;
    });
    const withMember = (add: Body): Body =>
      JSON.parse(JSON.stringify(add).replaceAll('"MEMBER"', JSON.stringify(member))) as Body;

    it.each(GROUP_CASES)(
      'refuses POST with %s, storing nothing',
      async (_what, add, scimType, detail) => {
        const displayName = next('refused-group');
        const r = await req(
          'POST',
          '/scim/v2/Groups',
          withMember(bodyOf({ schemas: [GROUP], displayName }, add)),
        );
        expectRefused(r, scimType, detail);
        expect(await count('Groups', `displayName eq "${displayName}"`)).toBe(0);
      },
    );

    it('refuses the same shapes on PUT, changing nothing (members included)', async () => {
      const g = await createGroup({ members: [{ value: member }] });
      const before = await get(`/scim/v2/Groups/${g.id}`);
      for (const [, add, scimType, detail] of GROUP_CASES) {
        const r = await req(
          'PUT',
          `/scim/v2/Groups/${g.id}`,
          withMember(bodyOf({ schemas: [GROUP], displayName: g.displayName, members: [] }, add)),
        );
        expect({ add, status: r.status, scimType: r.body.scimType }).toEqual({
          add,
          status: 400,
          scimType,
        });
        expect(r.body.detail).toContain(detail);
      }
      expect(await get(`/scim/v2/Groups/${g.id}`)).toEqual(before);
    });

    it('accepts Entra’s ADSCIM schema URN on a group and returns the core schema alone', async () => {
      const g = await createGroup({
        schemas: [GROUP, ADSCIM_GROUP],
        meta: { resourceType: 'Group' },
      });
      expect(g.schemas).toEqual([GROUP]);
      expect((await get(`/scim/v2/Groups/${g.id}`)).schemas).toEqual([GROUP]);
    });

    it.each([
      [
        'an unknown attribute by path',
        { op: 'add', path: 'description', value: 'x' },
        'invalidPath',
        'description',
      ],
      [
        'an unknown attribute without a path',
        { op: 'add', value: { description: 'x' } },
        'invalidSyntax',
        'description',
      ],
      [
        'a number as displayName',
        { op: 'replace', path: 'displayName', value: 5 },
        'invalidValue',
        'displayName',
      ],
      [
        'an array as externalId',
        { op: 'replace', path: 'externalId', value: ['x'] },
        'invalidValue',
        'externalId',
      ],
      [
        'an unknown member sub-attribute',
        { op: 'add', path: 'members', value: [{ value: 'MEMBER', role: 'owner' }] },
        'invalidSyntax',
        'members[0].role',
      ],
      [
        'a member sub-attribute of the wrong type, without a path',
        { op: 'add', value: { members: [{ value: 'MEMBER', type: 5 }] } },
        'invalidValue',
        'members[0].type',
      ],
      [
        'a readOnly member sub-attribute as the target',
        { op: 'replace', path: 'members[value eq "MEMBER"].display', value: 'x' },
        'mutability',
        'members.display',
      ],
    ])('refuses a PATCH with %s, changing nothing', async (_what, op, scimType, detail) => {
      const g = await createGroup();
      const before = await get(`/scim/v2/Groups/${g.id}`);
      const r = await req('PATCH', `/scim/v2/Groups/${g.id}`, patchOp(withMember(op as Body)));
      expectRefused(r, scimType, detail);
      expect(await get(`/scim/v2/Groups/${g.id}`)).toEqual(before);
    });

    it('adds members as Entra sends them ($ref null) and ignores a readOnly display', async () => {
      const g = await createGroup();
      const r = await req(
        'PATCH',
        `/scim/v2/Groups/${g.id}`,
        patchOp({
          op: 'Add',
          path: 'members',
          value: [{ $ref: null, value: member, display: 'x' }],
        }),
      );
      expect(r.status).toBe(204);
      expect((await get(`/scim/v2/Groups/${g.id}`)).members).toEqual([
        expect.objectContaining({ value: member }),
      ]);
    });
  });

  describe('attributes / excludedAttributes on write responses (RFC 7644 §3.9)', () => {
    it('projects POST, PUT and PATCH responses of users; Location and ETag stay', async () => {
      const userName = next('projected');
      const created = await req('POST', '/scim/v2/Users?attributes=userName', {
        schemas: [USER],
        userName,
        title: 'Engineer',
      });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({ schemas: [USER], id: expect.any(String), userName });
      const id = created.body.id as string;
      expect(created.headers.location).toMatch(new RegExp(`/scim/v2/Users/${id}$`));
      expect(created.headers.etag).toBe('W/"1"');

      const put = await req('PUT', `/scim/v2/Users/${id}?excludedAttributes=title,meta`, {
        schemas: [USER],
        userName,
        title: 'Lead',
        displayName: 'Ada',
      });
      expect(put.status).toBe(200);
      expect(put.body).toEqual({ schemas: [USER], id, userName, displayName: 'Ada' });
      expect(put.headers.etag).toBe('W/"2"');

      const patched = await req(
        'PATCH',
        `/scim/v2/Users/${id}?attributes=displayName,name.givenName`,
        patchOp({ op: 'add', path: 'name.givenName', value: 'Ada' }),
      );
      expect(patched.status).toBe(200);
      expect(patched.body).toEqual({
        schemas: [USER],
        id,
        displayName: 'Ada',
        name: { givenName: 'Ada' },
      });
      expect(patched.headers.etag).toBe('W/"3"');
      // Everything was written, whatever the response showed.
      expect(await get(`/scim/v2/Users/${id}`)).toMatchObject({
        title: 'Lead',
        name: { givenName: 'Ada' },
      });
    });

    it('returns groups on a user write when attributes asks for them', async () => {
      const u = await createUser();
      const g = await createGroup({ members: [{ value: u.id }] });
      const r = await req(
        'PATCH',
        `/scim/v2/Users/${u.id}?attributes=groups`,
        patchOp({ op: 'replace', path: 'title', value: 'Member' }),
      );
      expect(r.status).toBe(200);
      expect(r.body).toEqual({
        schemas: [USER],
        id: u.id,
        groups: [expect.objectContaining({ value: g.id, display: g.displayName })],
      });
    });

    it('projects group writes; a group PATCH answers 200 with the resource only when they are given', async () => {
      const u = await createUser();
      const created = await req('POST', '/scim/v2/Groups?excludedAttributes=members', {
        schemas: [GROUP],
        displayName: next('pgroup'),
        externalId: 'ext-p',
        members: [{ value: u.id }],
      });
      expect(created.status).toBe(201);
      expect(created.body.members).toBeUndefined();
      expect(created.body.externalId).toBe('ext-p');
      expect(created.headers.location).toBe(created.body.meta.location);
      const id = created.body.id as string;

      const put = await req('PUT', `/scim/v2/Groups/${id}?attributes=externalId`, {
        schemas: [GROUP],
        displayName: created.body.displayName,
        externalId: 'ext-q',
      });
      expect(put.status).toBe(200);
      expect(put.body).toEqual({ schemas: [GROUP], id, externalId: 'ext-q' });
      expect(put.headers.etag).toBe('W/"2"');

      const plain = await req(
        'PATCH',
        `/scim/v2/Groups/${id}`,
        patchOp({ op: 'replace', path: 'externalId', value: 'ext-r' }),
      );
      expect(plain.status).toBe(204);
      expect(plain.text).toBe('');

      const asked = await req(
        'PATCH',
        `/scim/v2/Groups/${id}?attributes=members,externalId`,
        patchOp({ op: 'add', path: 'members', value: [{ value: u.id }] }),
      );
      expect(asked.status).toBe(200);
      expect(asked.headers['content-type']).toMatch(/^application\/scim\+json/);
      expect(asked.body).toEqual({
        schemas: [GROUP],
        id,
        externalId: 'ext-r',
        members: [expect.objectContaining({ value: u.id })],
      });
    });

    it('refuses a malformed projection before writing anything', async () => {
      const u = await createUser({ title: 'Engineer' });
      const bad = encodeURIComponent('emails[type eq "work"]');
      const r = await req(
        'PATCH',
        `/scim/v2/Users/${u.id}?attributes=${bad}`,
        patchOp({ op: 'replace', path: 'title', value: 'Changed' }),
      );
      expectScimError(r, 400, 'invalidValue');
      expect((await get(`/scim/v2/Users/${u.id}`)).title).toBe('Engineer');
      const userName = next('bad-projection');
      const post = await req('POST', `/scim/v2/Users?attributes=${bad}`, {
        schemas: [USER],
        userName,
      });
      expectScimError(post, 400, 'invalidValue');
      expect(await count('Users', `userName eq "${userName}"`)).toBe(0);
    });
  });

  describe('PUT without active', () => {
    it('keeps a user another client disabled disabled, with no reactivation event', async () => {
      const u = await createUser();
      const off = await req(
        'PATCH',
        `/scim/v2/Users/${u.id}`,
        patchOp({ op: 'Replace', path: 'active', value: 'False' }),
      );
      expect(off.body.active).toBe(false);
      const put = await req('PUT', `/scim/v2/Users/${u.id}`, {
        schemas: [USER],
        userName: u.userName,
        displayName: 'Replaced',
      });
      expect(put.status).toBe(200);
      expect(put.body).toMatchObject({ displayName: 'Replaced', active: false });
      expect(await get(`/scim/v2/Users/${u.id}`)).toMatchObject({ active: false });
      expect(await count('Users', `userName eq "${u.userName}" and active eq false`)).toBe(1);
      const nulled = await req('PUT', `/scim/v2/Users/${u.id}`, {
        schemas: [USER],
        userName: u.userName,
        active: null,
      });
      expect(nulled.body.active).toBe(false);
      const subjects = (
        await s.app.get(PrismaService).outbox.findMany({ orderBy: { createdAt: 'asc' } })
      )
        .filter((e) => (e.payload as { userId?: string }).userId === u.id)
        .map((e) => e.subject);
      expect(subjects).not.toContain('scim.user.reactivated.v1');
      expect(subjects).toContain('scim.user.deactivated.v1');

      // Sent explicitly, active is what the PUT says.
      const on = await req('PUT', `/scim/v2/Users/${u.id}`, {
        schemas: [USER],
        userName: u.userName,
        active: true,
      });
      expect(on.body.active).toBe(true);
    });

    it('leaves an active user active when PUT omits active', async () => {
      const u = await createUser();
      const put = await req('PUT', `/scim/v2/Users/${u.id}`, {
        schemas: [USER],
        userName: u.userName,
      });
      expect(put.status).toBe(200);
      expect(put.body.active).toBeUndefined();
      expect(await count('Users', `userName eq "${u.userName}" and active eq true`)).toBe(1);
    });
  });
});
