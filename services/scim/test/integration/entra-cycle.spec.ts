import { ENTERPRISE, GROUP, patchOp, startScim, USER, type ScimTestApp } from '../support/scim-app';

// A whole Entra ID provisioning cycle replayed in the order the provisioning service sends it
// (learn.microsoft.com: "Develop and plan provisioning for a SCIM endpoint in Microsoft Entra ID",
// "Known issues and resolutions with SCIM 2.0 protocol compliance", with and without the
// aadOptscim062020 flag): match by userName then create, attribute updates, manager, group
// create and membership, disable, a second cycle that must change nothing, then deletes.
// Run against the default and the aws profile.

const ADSCIM_GROUP = 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group';

type Profile = 'default' | 'aws';

interface Person {
  upn: string;
  alias: string;
  given: string;
  family: string;
}

/** A POST body as Entra builds it from the default attribute mappings plus common extra ones. */
const entraUser = (p: Person, profile: Profile) => ({
  schemas: [USER, ENTERPRISE],
  externalId: p.alias,
  userName: p.upn,
  active: true,
  displayName: `${p.given} ${p.family}`,
  title: 'Engineer',
  preferredLanguage: 'en-US',
  userType: 'Member',
  emails: [{ primary: true, type: 'work', value: p.upn }],
  addresses: [
    {
      type: 'work',
      formatted: '1 Microsoft Way, Redmond, WA 98052, US',
      streetAddress: '1 Microsoft Way',
      locality: 'Redmond',
      region: 'WA',
      postalCode: '98052',
      country: 'US',
      primary: true,
    },
  ],
  // IAM Identity Center keeps one phone number; the default profile takes work, mobile and fax.
  phoneNumbers:
    profile === 'aws'
      ? [{ type: 'work', value: '+1 425 555 0100' }]
      : [
          { type: 'work', value: '+1 425 555 0100' },
          { type: 'mobile', value: '+1 425 555 0101' },
          { type: 'fax', value: '+1 425 555 0102' },
        ],
  name: { formatted: `${p.given} ${p.family}`, givenName: p.given, familyName: p.family },
  [ENTERPRISE]: {
    employeeNumber: '1001',
    department: 'R&D',
    costCenter: 'CC-1',
    organization: 'Contoso',
    division: 'Cloud',
  },
  meta: { resourceType: 'User' },
  roles: [],
});

describe.each<Profile>(['default', 'aws'])(
  'Entra ID provisioning cycle (%s profile)',
  (profile) => {
    let s: ScimTestApp;
    let token: string;
    beforeAll(async () => {
      s = await startScim();
      token = await s.directory(`cycle-${profile}`, profile);
    });
    afterAll(async () => s.close());

    const people: Person[] = ['alice', 'bob', 'carol'].map((n) => ({
      upn: `${n}@contoso.com`,
      alias: n,
      given: n[0]?.toUpperCase() + n.slice(1),
      family: 'Contoso',
    }));
    const ids = new Map<string, string>();
    const id = (alias: string): string => {
      const v = ids.get(alias);
      if (v === undefined) throw new Error(`no user ${alias}`);
      return v;
    };
    let groupId = '';

    const list = (resource: 'Users' | 'Groups', filter: string, extra = '') =>
      s.request('GET', `/scim/v2/${resource}?filter=${encodeURIComponent(filter)}${extra}`, {
        token,
      });
    const patchUser = (userId: string, ...ops: unknown[]) =>
      s.request('PATCH', `/scim/v2/Users/${userId}`, { token, body: patchOp(...ops) });
    const patchGroup = (gid: string, ...ops: unknown[]) =>
      s.request('PATCH', `/scim/v2/Groups/${gid}`, { token, body: patchOp(...ops) });
    const versions = async () => {
      const out: Record<string, string> = {};
      for (const p of people) {
        const r = await s.request('GET', `/scim/v2/Users/${id(p.alias)}`, { token });
        out[p.alias] = r.body.meta.version;
      }
      const g = await s.request('GET', `/scim/v2/Groups/${groupId}`, { token });
      out.group = g.body.meta.version;
      return out;
    };

    it('answers the connection test with an empty ListResponse', async () => {
      const r = await list('Users', `userName eq "${crypto.randomUUID()}"`);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ totalResults: 0, Resources: [] });
    });

    it('matches by userName (no match), then creates each user with 201', async () => {
      for (const p of people) {
        const miss = await list('Users', `userName eq "${p.upn}"`);
        expect(miss.body.totalResults).toBe(0);
        const r = await s.request('POST', '/scim/v2/Users', {
          token,
          body: entraUser(p, profile),
          // Entra sends application/scim+json; other clients of the validator send this.
          headers: { 'content-type': 'application/json; charset=utf-8' },
        });
        expect({ upn: p.upn, status: r.status, detail: r.body.detail }).toEqual({
          upn: p.upn,
          status: 201,
          detail: undefined,
        });
        const sent = entraUser(p, profile);
        expect(r.body).toMatchObject({
          userName: p.upn,
          externalId: p.alias,
          active: true,
          emails: sent.emails,
          addresses: sent.addresses,
          phoneNumbers: sent.phoneNumbers,
          [ENTERPRISE]: sent[ENTERPRISE],
        });
        ids.set(p.alias, r.body.id);
      }
    });

    it('answers a create of a user that exists with 409 uniqueness (Entra then matches it)', async () => {
      const p = people[0] as Person;
      const r = await s.request('POST', '/scim/v2/Users', { token, body: entraUser(p, profile) });
      expect(r.status).toBe(409);
      if (profile === 'default') expect(r.body.scimType).toBe('uniqueness');
      const hit = await list('Users', `userName eq "${p.upn.toUpperCase()}"`);
      expect(hit.body.Resources.map((u: { id: string }) => u.id)).toEqual([id(p.alias)]);
    });

    it('creates a user whose manager Entra sends as a bare id in the POST (stored as {value})', async () => {
      const p: Person = {
        upn: 'dave@contoso.com',
        alias: 'dave',
        given: 'Dave',
        family: 'Contoso',
      };
      const body = entraUser(p, profile);
      const r = await s.request('POST', '/scim/v2/Users', {
        token,
        body: { ...body, [ENTERPRISE]: { ...body[ENTERPRISE], manager: id('alice') } },
      });
      expect({ status: r.status, detail: r.body.detail }).toEqual({
        status: 201,
        detail: undefined,
      });
      expect(r.body[ENTERPRISE].manager).toEqual({ value: id('alice') });
      const none = await s.request('POST', '/scim/v2/Users', {
        token,
        body: {
          ...entraUser({ ...p, upn: 'erin@contoso.com', alias: 'erin' }, profile),
          [ENTERPRISE]: { department: 'R&D', manager: '' },
        },
      });
      expect(none.status).toBe(201);
      expect(none.body[ENTERPRISE]).toEqual({ department: 'R&D' });
      for (const u of [r.body.id, none.body.id])
        expect((await s.request('DELETE', `/scim/v2/Users/${u}`, { token })).status).toBe(204);
    });

    it('finds users by the matching attributes the validator exercises', async () => {
      const p = people[1] as Person;
      const filters = [`externalId eq "${p.alias}"`, `userName eq "${p.upn}"`];
      if (profile === 'default')
        filters.push(
          `emails[type eq "work"].value eq "${p.upn}"`,
          `emails[type eq "work" and value eq "${p.upn}"]`,
        );
      for (const f of filters) {
        const r = await list('Users', f);
        expect({
          f,
          status: r.status,
          ids: r.body.Resources?.map((u: { id: string }) => u.id),
        }).toEqual({ f, status: 200, ids: [id(p.alias)] });
      }
    });

    it('updates attributes with several capitalised operations in one PATCH (200 + resource)', async () => {
      const alice = id('alice');
      const ops: unknown[] = [
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'alice.new@contoso.com' },
        { op: 'Replace', path: 'addresses[type eq "work"].streetAddress', value: '2 Main St' },
        { op: 'Replace', path: 'addresses[type eq "work"].postalCode', value: '98053' },
        { op: 'Replace', path: 'name.givenName', value: 'Alicia' },
        { op: 'Replace', path: 'title', value: 'Senior Engineer' },
        { op: 'Replace', path: 'phoneNumbers[type eq "work"].value', value: '+1 425 555 0200' },
        { op: 'Add', path: `${ENTERPRISE}:department`, value: 'Research' },
        { op: 'Replace', path: `${ENTERPRISE}:employeeNumber`, value: '2002' },
      ];
      if (profile === 'default')
        ops.push(
          { op: 'Replace', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 425 555 0201' },
          { op: 'Add', path: 'phoneNumbers[type eq "fax"].value', value: '+1 425 555 0202' },
        );
      const r = await patchUser(alice, ...ops);
      expect({ status: r.status, detail: r.body.detail }).toEqual({
        status: 200,
        detail: undefined,
      });
      expect(r.body).toMatchObject({
        emails: [{ primary: true, type: 'work', value: 'alice.new@contoso.com' }],
        addresses: [expect.objectContaining({ streetAddress: '2 Main St', postalCode: '98053' })],
        name: { givenName: 'Alicia', familyName: 'Contoso' },
        title: 'Senior Engineer',
        [ENTERPRISE]: expect.objectContaining({ department: 'Research', employeeNumber: '2002' }),
      });
      expect(r.body.meta.version).toBe('W/"2"');
      const phones = Object.fromEntries(
        (r.body.phoneNumbers as { type: string; value: string }[]).map((x) => [x.type, x.value]),
      );
      expect(phones.work).toBe('+1 425 555 0200');
      if (profile === 'default')
        expect(phones).toEqual({
          work: '+1 425 555 0200',
          mobile: '+1 425 555 0201',
          fax: '+1 425 555 0202',
        });
    });

    it('applies the aadOptscim062020 path-less replace whose keys are paths, value filters included', async () => {
      const bob = id('bob');
      const r = await patchUser(bob, {
        op: 'replace',
        value: {
          displayName: 'Robert Contoso',
          'emails[type eq "work"].value': 'robert@contoso.com',
          'name.givenName': 'Robert',
          'name.familyName': 'Contoso',
          externalId: 'robert',
          [`${ENTERPRISE}:employeeNumber`]: '3003',
        },
      });
      expect({ status: r.status, detail: r.body.detail }).toEqual({
        status: 200,
        detail: undefined,
      });
      expect(r.body).toMatchObject({
        displayName: 'Robert Contoso',
        externalId: 'robert',
        emails: [{ primary: true, type: 'work', value: 'robert@contoso.com' }],
        name: { givenName: 'Robert', familyName: 'Contoso' },
        [ENTERPRISE]: expect.objectContaining({ employeeNumber: '3003' }),
      });
      expect((await list('Users', 'externalId eq "robert"')).body.totalResults).toBe(1);
    });

    it('applies single-valued attributes wrapped as [{value}] (Entra without aadOptscim062020)', async () => {
      const r = await patchUser(
        id('bob'),
        { op: 'Add', path: 'nickName', value: [{ value: 'Babs' }] },
        { op: 'Replace', path: 'userType', value: [{ value: 'Employee' }] },
      );
      expect({ status: r.status, detail: r.body.detail }).toEqual({
        status: 200,
        detail: undefined,
      });
      expect(r.body).toMatchObject({ nickName: 'Babs', userType: 'Employee' });
    });

    it('sets the manager as a bare id, replaces it, and removes it', async () => {
      const path = `${ENTERPRISE}:manager`;
      const add = await patchUser(id('carol'), { op: 'Add', path, value: id('alice') });
      expect(add.status).toBe(200);
      expect(add.body[ENTERPRISE].manager).toEqual({ value: id('alice') });
      const replace = await patchUser(id('carol'), { op: 'Replace', path, value: id('bob') });
      expect(replace.body[ENTERPRISE].manager).toEqual({ value: id('bob') });
      const remove = await patchUser(id('carol'), { op: 'Remove', path });
      expect(remove.status).toBe(200);
      expect(remove.body[ENTERPRISE].manager).toBeUndefined();
      expect(remove.body[ENTERPRISE].department).toBe('R&D');
      // Microsoft's SCIM validator (SCIM_Update_Manager_Test) sets with Add, changes with Replace and
      // removes with a Replace to "": the manager is then gone, not an empty reference.
      for (const empty of ['', [{ value: '' }]]) {
        await patchUser(id('carol'), { op: 'Add', path, value: id('bob') });
        const cleared = await patchUser(id('carol'), { op: 'Replace', path, value: empty });
        expect({ empty, status: cleared.status, ext: cleared.body[ENTERPRISE] }).toEqual({
          empty,
          status: 200,
          ext: expect.not.objectContaining({ manager: expect.anything() }),
        });
      }
      const pathless = await patchUser(
        id('carol'),
        { op: 'Add', path, value: id('bob') },
        { op: 'replace', value: { [path]: '' } },
      );
      expect(pathless.body[ENTERPRISE].manager).toBeUndefined();
      // Entra sets the manager again; it stays for the second cycle.
      expect((await patchUser(id('carol'), { op: 'Add', path, value: id('alice') })).status).toBe(
        200,
      );
    });

    it('writes the single app role through Entra\'s roles[primary eq "True"].value mapping (aws: refused as IAM Identity Center does)', async () => {
      const path = 'roles[primary eq "True"].value';
      const add = await patchUser(id('alice'), { op: 'Add', path, value: 'Admin' });
      if (profile === 'aws') {
        // IAM Identity Center's PatchUser does not take roles: 400 in AWS's shape, nothing changed.
        expect(add.status).toBe(400);
        expect(add.body.detail).toMatch(/roles/);
        return;
      }
      expect({ status: add.status, detail: add.body.detail }).toEqual({
        status: 200,
        detail: undefined,
      });
      expect(add.body.roles).toEqual([{ primary: true, value: 'Admin' }]);
      const replace = await patchUser(id('alice'), { op: 'replace', value: { [path]: 'Reader' } });
      expect(replace.body.roles).toEqual([{ primary: true, value: 'Reader' }]);
      const found = await list('Users', 'roles[primary eq "True"].value eq "Reader"');
      expect(found.body.Resources.map((u: { id: string }) => u.id)).toEqual([id('alice')]);
      expect((await list('Users', 'roles[primary eq "False"]')).body.totalResults).toBe(0);
    });

    it('removes single attributes the validator clears (value-filter sub-attribute, simple, extension)', async () => {
      const r = await patchUser(
        id('bob'),
        { op: 'Remove', path: 'addresses[type eq "work"].region' },
        { op: 'Remove', path: 'title' },
        { op: 'Remove', path: `${ENTERPRISE}:division` },
      );
      expect({ status: r.status, detail: r.body.detail }).toEqual({
        status: 200,
        detail: undefined,
      });
      expect(r.body.title).toBeUndefined();
      expect(r.body.addresses[0].region).toBeUndefined();
      expect(r.body.addresses[0].locality).toBe('Redmond');
      expect(r.body[ENTERPRISE].division).toBeUndefined();
    });

    it('matches the group by displayName without members, creates it, then adds members in one PATCH (204)', async () => {
      const miss = await list(
        'Groups',
        'displayName eq "Engineering"',
        '&excludedAttributes=members',
      );
      expect(miss.body.totalResults).toBe(0);
      const g = await s.request('POST', '/scim/v2/Groups', {
        token,
        body: {
          schemas: [GROUP, ADSCIM_GROUP],
          externalId: 'eng-object-id',
          displayName: 'Engineering',
          meta: { resourceType: 'Group' },
        },
      });
      expect(g.status).toBe(201);
      expect(g.body.schemas).toEqual([GROUP]);
      groupId = g.body.id;
      const add = await patchGroup(groupId, {
        op: 'Add',
        path: 'members',
        value: people.map((p) => ({ value: id(p.alias) })),
      });
      expect(add.status).toBe(204);
      for (const p of people) {
        const r = await list(
          'Groups',
          `id eq "${groupId}" and members eq "${id(p.alias)}"`,
          '&excludedAttributes=members',
        );
        expect(
          r.body.Resources.map((x: { id: string; members?: unknown }) => [x.id, x.members]),
        ).toEqual([[groupId, undefined]]);
      }
    });

    it('renames the group (204) and removes members by filter path and by value list (204)', async () => {
      expect(
        (await patchGroup(groupId, { op: 'Replace', path: 'displayName', value: 'Engineering EU' }))
          .status,
      ).toBe(204);
      const byPath = await patchGroup(groupId, {
        op: 'remove',
        path: `members[value eq "${id('carol')}"]`,
      });
      expect(byPath.status).toBe(204);
      const byValue = await patchGroup(groupId, {
        op: 'Remove',
        path: 'members',
        value: [{ value: id('bob') }],
      });
      expect(byValue.status).toBe(204);
      expect(
        (
          await list(
            'Groups',
            `id eq "${groupId}" and members eq "${id('bob')}"`,
            '&excludedAttributes=members',
          )
        ).body.totalResults,
      ).toBe(0);
      // Bob comes back for the rest of the cycle.
      expect(
        (await patchGroup(groupId, { op: 'Add', path: 'members', value: [{ value: id('bob') }] }))
          .status,
      ).toBe(204);
    });

    it('disables a user with "False" (before the flag) and false (with it); still found, active false', async () => {
      const off = await patchUser(id('carol'), { op: 'Replace', path: 'active', value: 'False' });
      expect(off.status).toBe(200);
      expect(off.body.active).toBe(false);
      const again = await patchUser(id('carol'), { op: 'replace', path: 'active', value: false });
      expect(again.status).toBe(200);
      expect(again.body.meta.version).toBe(off.body.meta.version);
      const found = await list('Users', `userName eq "${people[2]?.upn}"`);
      expect(found.body.Resources[0]).toMatchObject({ id: id('carol'), active: false });
    });

    it('second cycle: matching again and re-sending the same changes changes nothing (no version bumps)', async () => {
      const before = await versions();
      for (const p of people) {
        const r = await list('Users', `userName eq "${p.upn}"`);
        expect(r.body.Resources.map((u: { id: string }) => u.id)).toEqual([id(p.alias)]);
      }
      expect(
        (await list('Groups', 'displayName eq "Engineering EU"', '&excludedAttributes=members'))
          .body.totalResults,
      ).toBe(1);
      // Entra re-exports values it believes changed; equal values must be no-ops.
      const same = [
        await patchUser(
          id('alice'),
          { op: 'Replace', path: 'emails[type eq "work"].value', value: 'alice.new@contoso.com' },
          { op: 'Replace', path: 'addresses[type eq "work"].streetAddress', value: '2 Main St' },
          { op: 'Replace', path: 'name.givenName', value: 'Alicia' },
          { op: 'Replace', path: `${ENTERPRISE}:department`, value: 'Research' },
        ),
        await patchUser(id('bob'), {
          op: 'replace',
          value: {
            'emails[type eq "work"].value': 'robert@contoso.com',
            [`${ENTERPRISE}:employeeNumber`]: '3003',
          },
        }),
        await patchUser(id('carol'), {
          op: 'Replace',
          path: `${ENTERPRISE}:manager`,
          value: id('alice'),
        }),
        await patchUser(id('carol'), { op: 'Replace', path: 'active', value: 'False' }),
      ];
      expect(same.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      const members = [
        await patchGroup(groupId, {
          op: 'Add',
          path: 'members',
          value: [{ value: id('alice') }, { value: id('bob') }],
        }),
        await patchGroup(groupId, { op: 'Remove', path: `members[value eq "${id('carol')}"]` }),
        await patchGroup(groupId, { op: 'Replace', path: 'displayName', value: 'Engineering EU' }),
      ];
      expect(members.map((r) => r.status)).toEqual([204, 204, 204]);
      expect(await versions()).toEqual(before);
    });

    it('deletes users and the group (204), then 404 for each', async () => {
      expect((await s.request('DELETE', `/scim/v2/Users/${id('carol')}`, { token })).status).toBe(
        204,
      );
      expect((await s.request('GET', `/scim/v2/Users/${id('carol')}`, { token })).status).toBe(404);
      expect((await s.request('DELETE', `/scim/v2/Users/${id('carol')}`, { token })).status).toBe(
        404,
      );
      expect((await s.request('DELETE', `/scim/v2/Groups/${groupId}`, { token })).status).toBe(204);
      expect((await s.request('GET', `/scim/v2/Groups/${groupId}`, { token })).status).toBe(404);
      expect(
        (await patchGroup(groupId, { op: 'Add', path: 'members', value: [{ value: id('alice') }] }))
          .status,
      ).toBe(404);
      const alice = await s.request('GET', `/scim/v2/Users/${id('alice')}`, { token });
      expect(alice.body.groups ?? []).toEqual([]);
    });
  },
);
