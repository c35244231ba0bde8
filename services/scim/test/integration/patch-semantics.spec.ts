import { PrismaService } from '../../src/db/prisma.service';
import {
  ENTERPRISE,
  GROUP,
  patchOp,
  expectScimError,
  startScim,
  USER,
  type ScimTestApp,
} from '../support/scim-app';

// PATCH semantics of RFC 7644 §3.5.2 over HTTP: one primary value per multi-valued attribute,
// replace through a value filter merges, value filters resolved like GET filters, and sub-attribute
// paths under simple attributes refused. Every refusal leaves the stored resource as it was.

type Element = Record<string, unknown>;
const primaryOf = (els: Element[] | undefined) =>
  (els ?? []).filter((e) => e.primary === true).map((e) => e.value ?? e.formatted);

describe('PATCH semantics (RFC 7644 §3.5.2)', () => {
  let s: ScimTestApp;
  let token: string;
  beforeAll(async () => {
    s = await startScim();
    token = await s.directory('patch-semantics');
  });
  afterAll(async () => s.close());

  let seq = 0;
  const createUser = async (extra: Record<string, unknown> = {}) => {
    seq += 1;
    const r = await s.request('POST', '/scim/v2/Users', {
      token,
      body: {
        schemas: [USER],
        userName: `patch-${seq}@contoso.com`,
        title: 'Engineer',
        emails: [{ value: `work-${seq}@contoso.com`, type: 'work', primary: true }],
        ...extra,
      },
    });
    expect(r.status).toBe(201);
    return r.body as { id: string } & Record<string, unknown>;
  };
  const patch = (id: string, ...ops: unknown[]) =>
    s.request('PATCH', `/scim/v2/Users/${id}`, { token, body: patchOp(...ops) });
  const get = async (id: string) => {
    const r = await s.request('GET', `/scim/v2/Users/${id}`, { token });
    expect(r.status).toBe(200);
    return r.body as Record<string, unknown>;
  };
  /** Sends `ops`, expects the refusal, and checks the stored user did not change at all. */
  const expectRefused = async (id: string, scimType: string, ...ops: unknown[]) => {
    const before = await get(id);
    const r = await patch(id, ...ops);
    expectScimError(r, 400, scimType);
    expect(await get(id)).toEqual(before);
    return r;
  };

  describe('primary is true on at most one value', () => {
    it('adding a primary email (as Entra does when the primary changes) makes the old one non-primary', async () => {
      const u = await createUser();
      const r = await patch(u.id, {
        op: 'add',
        path: 'emails',
        value: [{ value: 'n@x.com', type: 'other', primary: true }],
      });
      expect(r.status).toBe(200);
      expect(r.body.emails).toEqual([
        { value: `work-${seq}@contoso.com`, type: 'work', primary: false },
        { value: 'n@x.com', type: 'other', primary: true },
      ]);
      expect((await get(u.id)).emails).toEqual(r.body.emails);
    });

    it('replacing a sub-attribute primary with "True" through a value filter moves the primary', async () => {
      const u = await createUser({
        emails: [
          { value: 'w@x.com', type: 'work', primary: true },
          { value: 'o@x.com', type: 'other' },
        ],
      });
      const r = await patch(u.id, {
        op: 'replace',
        path: 'emails[type eq "other"].primary',
        value: 'True',
      });
      expect(r.status).toBe(200);
      expect(r.body.emails).toEqual([
        { value: 'w@x.com', type: 'work', primary: false },
        { value: 'o@x.com', type: 'other', primary: true },
      ]);
    });

    it('holds for path-less values, whole replaces, filtered adds and any letter case', async () => {
      const u = await createUser();
      const cases: [unknown, string][] = [
        [
          { op: 'Add', value: { emails: [{ value: 'a@x.com', type: 'home', primary: true }] } },
          'a@x.com',
        ],
        [
          {
            op: 'add',
            path: 'EMAILS[type eq "other"]',
            value: { value: 'b@x.com', Primary: true },
          },
          'b@x.com',
        ],
        [
          { op: 'replace', path: 'emails[value eq "a@x.com"]', value: { primary: 'true' } },
          'a@x.com',
        ],
        [{ op: 'add', path: 'emails[type eq "other"].PRIMARY', value: true }, 'b@x.com'],
        [
          { op: 'replace', path: `${USER}:emails[type eq "work"].primary`, value: true },
          `work-${seq}@contoso.com`,
        ],
      ];
      for (const [op, want] of cases) {
        const r = await patch(u.id, op);
        expect({ op, status: r.status }).toEqual({ op, status: 200 });
        expect({ op, primary: primaryOf(r.body.emails) }).toEqual({ op, primary: [want] });
      }
      // Primary false everywhere is fine (at most once, not exactly once).
      const off = await patch(u.id, { op: 'replace', path: 'emails.primary', value: false });
      expect(primaryOf(off.body.emails)).toEqual([]);
    });

    it('adding a value that is already there with primary true makes it the primary', async () => {
      const u = await createUser({
        emails: [
          { value: 'w@x.com', type: 'work', primary: true },
          { value: 'h@x.com', type: 'home' },
        ],
      });
      const r = await patch(u.id, {
        op: 'add',
        path: 'emails',
        value: [{ value: 'h@x.com', type: 'home', primary: true }],
      });
      expect(r.status).toBe(200);
      expect(r.body.emails).toEqual([
        { value: 'w@x.com', type: 'work', primary: false },
        { value: 'h@x.com', type: 'home', primary: true },
      ]);
    });

    it.each([
      [
        'phoneNumbers',
        { value: '+1 555 0100', type: 'work' },
        { value: '+1 555 0101', type: 'mobile' },
      ],
      [
        'addresses',
        { formatted: 'Work St 1', type: 'work' },
        { formatted: 'Home St 2', type: 'home' },
      ],
      ['ims', { value: 'a@im', type: 'xmpp' }, { value: 'b@im', type: 'skype' }],
      [
        'photos',
        { value: 'https://x/a.png', type: 'photo' },
        { value: 'https://x/b.png', type: 'thumbnail' },
      ],
      ['entitlements', { value: 'e1' }, { value: 'e2' }],
      ['roles', { value: 'r1' }, { value: 'r2' }],
      ['x509Certificates', { value: 'MIIa' }, { value: 'MIIb' }],
    ])('applies to %s', async (attr, first, second) => {
      const u = await createUser({ [attr]: [{ ...first, primary: true }] });
      const r = await patch(u.id, { op: 'add', path: attr, value: [{ ...second, primary: true }] });
      expect(r.status).toBe(200);
      expect(r.body[attr]).toEqual([
        { ...first, primary: false },
        { ...second, primary: true },
      ]);
      const key = Object.keys(second)[0] as keyof typeof second;
      const back = await patch(u.id, {
        op: 'replace',
        path: `${attr}[${key} eq "${first[key]}"].primary`,
        value: true,
      });
      expect(back.status).toBe(200);
      expect(back.body[attr]).toEqual([
        { ...first, primary: true },
        { ...second, primary: false },
      ]);
    });

    it('refuses one operation that sets primary true on two values (400 invalidValue), changing nothing', async () => {
      const u = await createUser({
        emails: [
          { value: 'w1@x.com', type: 'work' },
          { value: 'w2@x.com', type: 'work' },
        ],
      });
      await expectRefused(u.id, 'invalidValue', {
        op: 'add',
        path: 'emails',
        value: [
          { value: 'a@x.com', primary: true },
          { value: 'b@x.com', primary: true },
        ],
      });
      await expectRefused(u.id, 'invalidValue', {
        op: 'replace',
        path: 'emails[type eq "work"].primary',
        value: true,
      });
      await expectRefused(u.id, 'invalidValue', {
        op: 'replace',
        path: 'emails',
        value: [
          { value: 'a@x.com', primary: true },
          { value: 'b@x.com', primary: 'True' },
        ],
      });
    });

    it('leaves operations that set no primary alone (other values keep theirs)', async () => {
      const u = await createUser();
      const r = await patch(u.id, {
        op: 'add',
        path: 'emails',
        value: [{ value: 'plain@x.com', type: 'home' }],
      });
      expect(primaryOf(r.body.emails)).toEqual([`work-${seq}@contoso.com`]);
    });
  });

  describe('replace through a value filter merges into the matched value', () => {
    it('keeps sub-attributes the value does not give (RFC 7644 §3.5.2.3)', async () => {
      const u = await createUser({
        emails: [{ value: 'old@w.com', type: 'work', primary: true, display: 'Work' }],
      });
      const r = await patch(u.id, {
        op: 'replace',
        path: 'emails[type eq "work"]',
        value: { value: 'w@w', type: 'work' },
      });
      expect(r.status).toBe(200);
      expect(r.body.emails).toEqual([
        { value: 'w@w', type: 'work', primary: true, display: 'Work' },
      ]);
      expect((await get(u.id)).emails).toEqual(r.body.emails);
    });

    it('replacing the whole attribute (no filter) still replaces every value', async () => {
      const u = await createUser();
      const r = await patch(u.id, {
        op: 'replace',
        path: 'emails',
        value: [{ value: 'only@x.com', type: 'home' }],
      });
      expect(r.body.emails).toEqual([{ value: 'only@x.com', type: 'home' }]);
    });
  });

  describe('a PATCH that matches nothing', () => {
    it('remove with a value filter that matches no value answers 200 and leaves the attributes as they were', async () => {
      // RFC 7644 §3.5.2.2 lists no error for it: removing what is not there is done.
      const u = await createUser();
      const before = await get(u.id);
      const r = await patch(u.id, { op: 'remove', path: 'emails[type eq "nothere"]' });
      expect(r.status).toBe(200);
      const { meta: _m1, ...rest } = r.body as Record<string, unknown>;
      const { meta: _m2, ...was } = before;
      expect(rest).toEqual(was);
    });

    it('clearing an attribute of an absent extension does not add the extension', async () => {
      const u = await createUser();
      const r = await patch(
        u.id,
        { op: 'replace', path: `${ENTERPRISE}:department`, value: null },
        { op: 'remove', path: `${ENTERPRISE}:manager` },
      );
      expect(r.status).toBe(200);
      expect(r.body[ENTERPRISE]).toBeUndefined();
      expect(r.body.schemas).toEqual([USER]);
    });
  });

  describe('what a remove or a clear leaves behind', () => {
    it('removing the value of a filtered element drops the element once only its type is left', async () => {
      const u = await createUser({
        phoneNumbers: [
          { value: '+1 555 0100', type: 'mobile' },
          { value: '+1 555 0101', type: 'work', primary: true },
        ],
      });
      const r = await patch(u.id, {
        op: 'remove',
        path: 'phoneNumbers[type eq "mobile"].value',
      });
      expect(r.status).toBe(200);
      expect(r.body.phoneNumbers).toEqual([{ value: '+1 555 0101', type: 'work', primary: true }]);
      expect((await get(u.id)).phoneNumbers).toEqual(r.body.phoneNumbers);
      // The last one goes the same way, with `primary` beside `type`, and takes the attribute along.
      const last = await patch(u.id, { op: 'remove', path: 'phoneNumbers[type eq "work"].value' });
      expect(last.status).toBe(200);
      expect(last.body.phoneNumbers).toBeUndefined();
      expect((await get(u.id)).phoneNumbers).toBeUndefined();
    });

    it('a filtered add of only a qualifier creates no element; with the value in the same PATCH it does', async () => {
      const u = await createUser({ emails: undefined, phoneNumbers: [{ value: '+1 555 0102' }] });
      const r = await patch(
        u.id,
        { op: 'add', path: 'emails[type eq "work"].primary', value: true },
        { op: 'replace', path: 'phoneNumbers[type eq "mobile"].primary', value: 'True' },
      );
      expect(r.status).toBe(200);
      expect(r.body.emails).toBeUndefined();
      expect(r.body.phoneNumbers).toEqual([{ value: '+1 555 0102' }]);
      expect((await get(u.id)).emails).toBeUndefined();
      const both = await patch(
        u.id,
        { op: 'add', path: 'emails[type eq "work"].primary', value: true },
        { op: 'add', path: 'emails[type eq "work"].value', value: 'late@x.com' },
      );
      expect(both.status).toBe(200);
      expect(both.body.emails).toEqual([{ type: 'work', primary: true, value: 'late@x.com' }]);
    });

    it('removing a sub-attribute keeps an element that still holds other values', async () => {
      const u = await createUser({
        addresses: [{ type: 'work', streetAddress: '1 Main St', locality: 'Seattle' }],
      });
      const r = await patch(u.id, {
        op: 'remove',
        path: 'addresses[type eq "work"].streetAddress',
      });
      expect(r.status).toBe(200);
      expect(r.body.addresses).toEqual([{ type: 'work', locality: 'Seattle' }]);
    });

    it('removing `emails.value` (every element) leaves no element that holds only type/primary', async () => {
      const u = await createUser();
      const r = await patch(u.id, { op: 'remove', path: 'emails.value' });
      expect(r.status).toBe(200);
      expect(r.body.emails).toBeUndefined();
      expect((await get(u.id)).emails).toBeUndefined();
    });

    it.each([
      ['""', ''],
      ['null', null],
    ])(
      'replacing `manager.value` with %s removes the manager, as replacing `manager` with "" does',
      async (_, value) => {
        const u = await createUser({
          schemas: [USER, ENTERPRISE],
          [ENTERPRISE]: { department: 'Sales', manager: { value: 'm-1' } },
        });
        const r = await patch(u.id, {
          op: 'replace',
          path: `${ENTERPRISE}:manager.value`,
          value,
        });
        expect(r.status).toBe(200);
        expect(r.body[ENTERPRISE]).toEqual({ department: 'Sales' });
        expect((await get(u.id))[ENTERPRISE]).toEqual({ department: 'Sales' });
        const found = await s.request(
          'GET',
          `/scim/v2/Users?filter=${encodeURIComponent(`id eq "${u.id}" and ${ENTERPRISE}:manager pr`)}`,
          { token },
        );
        expect(found.body.totalResults).toBe(0);
      },
    );

    it('replacing `manager.value` with "" on a user without the extension adds nothing', async () => {
      const u = await createUser();
      const r = await patch(u.id, {
        op: 'replace',
        path: `${ENTERPRISE}:manager.value`,
        value: '',
      });
      expect(r.status).toBe(200);
      expect(r.body[ENTERPRISE]).toBeUndefined();
      expect(r.body.schemas).toEqual([USER]);
    });
  });

  describe('value filters are resolved like GET filters', () => {
    it.each([
      ['emails[nosuch eq "x"]', 'emails.nosuch'],
      ['emails[type eq "work" and nosuch pr]', 'emails.nosuch'],
      ['emails[value.sub eq "x"]', 'value.sub'],
      ['emails[primary co "t"]', 'emails.primary'],
      // "True"/"False" are booleans (Entra's `roles[primary eq "True"].value`); other strings are not.
      ['emails[primary eq "yes"]', 'emails.primary'],
      ['emails[value eq 5]', 'emails.value'],
      ['emails[value gt null]', 'emails.value'],
    ])('%s: PATCH and GET both answer 400 invalidFilter naming %s', async (filter, named) => {
      const u = await createUser();
      const got = await s.request('GET', `/scim/v2/Users?filter=${encodeURIComponent(filter)}`, {
        token,
      });
      expectScimError(got, 400, 'invalidFilter');
      for (const op of [
        { op: 'remove', path: filter },
        { op: 'add', path: `${filter}.display`, value: 'x' },
        { op: 'replace', path: filter, value: { display: 'x' } },
        { op: 'replace', value: { [`${filter}.display`]: 'x' } },
      ]) {
        const r = await expectRefused(u.id, 'invalidFilter', op);
        expect(r.body.detail).toContain(named);
      }
    });

    it('known sub-attributes in any case still work', async () => {
      const u = await createUser();
      const r = await patch(u.id, {
        op: 'remove',
        path: 'emails[TYPE eq "WORK" and primary eq true]',
      });
      expect(r.status).toBe(200);
      expect(r.body.emails).toBeUndefined();
    });
  });

  describe('sub-attribute paths under simple attributes', () => {
    it.each([
      { op: 'add', path: 'title.foo', value: 'z' },
      { op: 'replace', path: 'title.foo', value: 'z' },
      { op: 'remove', path: 'title.foo' },
      { op: 'add', value: { 'title.foo': 'z' } },
      { op: 'replace', path: 'userName.x', value: 'z' },
      { op: 'add', path: `${ENTERPRISE}:department.x`, value: 'z' },
      { op: 'add', path: 'nickName.x', value: 'z' }, // also when the attribute has no value yet
      { op: 'add', path: 'customString.x', value: 'z' }, // an attribute the schema does not define
    ])('refuses %j with 400 invalidPath, changing nothing', async (op) => {
      const u = await createUser({ [ENTERPRISE]: { department: 'R&D' } });
      await expectRefused(u.id, 'invalidPath', op);
      expect((await get(u.id)).title).toBe('Engineer');
    });

    it('sub-attributes of complex attributes are still patched', async () => {
      const u = await createUser();
      const r = await patch(
        u.id,
        { op: 'add', path: 'name.givenName', value: 'Ada' },
        { op: 'add', path: `${ENTERPRISE}:manager.value`, value: 'm-1' },
      );
      expect(r.status).toBe(200);
      expect(r.body.name).toEqual({ givenName: 'Ada' });
      expect(r.body[ENTERPRISE]).toEqual({ manager: { value: 'm-1' } });
    });
  });

  describe('a PATCH that changes nothing', () => {
    const outboxRows = () => s.app.get(PrismaService).outbox.count();
    it.each([
      [
        'a remove whose filter matches nothing',
        { op: 'remove', path: 'emails[type eq "nothere"]' },
      ],
      ['a replace with the stored value', { op: 'replace', path: 'title', value: 'Engineer' }],
      ['a remove of an absent attribute', { op: 'remove', path: 'nickName' }],
    ])('keeps version, lastModified and ETag, and publishes no event: %s', async (_what, op) => {
      const user = await createUser();
      const before = await s.request('GET', `/scim/v2/Users/${user.id}`, { token });
      const events = await outboxRows();
      await new Promise((r) => setTimeout(r, 5)); // a new lastModified would differ
      const r = await patch(user.id, op);
      expect(r.status).toBe(200);
      expect(r.body.meta).toEqual(before.body.meta);
      expect(r.headers.etag).toBe(before.headers.etag);
      expect(await get(user.id)).toEqual(before.body);
      expect(await outboxRows()).toBe(events);
      // A real change still counts.
      expect(
        (await patch(user.id, { op: 'replace', path: 'title', value: 'Lead' })).body.meta.version,
      ).not.toBe(before.body.meta.version);
    });

    it('on a group: renaming it to its own name keeps its version and publishes no event', async () => {
      const g = await s.request('POST', '/scim/v2/Groups', {
        token,
        body: { schemas: [GROUP], displayName: 'Unchanged' },
      });
      expect(g.status).toBe(201);
      const events = await outboxRows();
      const r = await s.request('PATCH', `/scim/v2/Groups/${g.body.id}`, {
        token,
        body: patchOp({ op: 'replace', path: 'displayName', value: 'Unchanged' }),
      });
      expect([200, 204]).toContain(r.status);
      const after = await s.request('GET', `/scim/v2/Groups/${g.body.id}`, { token });
      expect(after.body.meta).toEqual(g.body.meta);
      expect(await outboxRows()).toBe(events);
    });
  });
});
