import {
  ENTERPRISE,
  expectScimError,
  GROUP,
  patchOp,
  startScim,
  USER,
  type ScimTestApp,
} from '../support/scim-app';

// Entra ID's "Update" and lifecycle requests beyond the replayed cycle: attribute mappings sent as
// value-filter paths on users that lack the attribute, the enterprise extension by URN path, the
// language attributes, soft delete then hard delete, re-provisioning, group renames and the
// large membership batches Entra sends (default profile), and the aws profile's cap on them.

describe('Entra ID updates and lifecycle beyond the cycle', () => {
  let s: ScimTestApp;
  let token: string;
  let aws: string;
  beforeAll(async () => {
    s = await startScim();
    token = await s.directory('contoso');
    aws = await s.directory('aws-tenant', 'aws');
  });
  afterAll(async () => s.close());

  const req = (method: string, url: string, body?: unknown, t = token) =>
    s.request(method, url, { token: t, body });
  const create = async (userName: string, extra: Record<string, unknown> = {}, t = token) => {
    const r = await req(
      'POST',
      '/scim/v2/Users',
      {
        schemas: [USER, ENTERPRISE],
        externalId: `ext-${userName}`,
        userName,
        active: true,
        displayName: userName,
        name: { givenName: 'Given', familyName: 'Family' },
        ...extra,
      },
      t,
    );
    expect(r.status).toBe(201);
    return r.body as { id: string; meta: { version: string } };
  };

  it('creates emails[type eq "work"].value and addresses[type eq "work"].formatted on a user without them', async () => {
    const u = await create('no.email@contoso.com');
    const r = await req(
      'PATCH',
      `/scim/v2/Users/${u.id}`,
      patchOp(
        { op: 'Add', path: 'emails[type eq "work"].value', value: 'no.email@contoso.com' },
        { op: 'Add', path: 'addresses[type eq "work"].formatted', value: '1 Main St, Springfield' },
        { op: 'Add', path: 'addresses[type eq "work"].locality', value: 'Springfield' },
        { op: 'Add', path: 'phoneNumbers[type eq "work"].value', value: '+1 555 0100' },
      ),
    );
    expect(r.status).toBe(200);
    expect(r.body.emails).toEqual([{ type: 'work', value: 'no.email@contoso.com' }]);
    expect(r.body.addresses).toEqual([
      { type: 'work', formatted: '1 Main St, Springfield', locality: 'Springfield' },
    ]);
    expect(r.body.phoneNumbers).toEqual([{ type: 'work', value: '+1 555 0100' }]);
    // Replace on the now-existing value changes it in place; a filter finds it.
    const again = await req(
      'PATCH',
      `/scim/v2/Users/${u.id}`,
      patchOp({
        op: 'Replace',
        path: 'emails[type eq "work"].value',
        value: 'renamed@contoso.com',
      }),
    );
    expect(again.body.emails).toEqual([{ type: 'work', value: 'renamed@contoso.com' }]);
    const found = await req(
      'GET',
      `/scim/v2/Users?filter=${encodeURIComponent('emails[type eq "work"].value eq "renamed@contoso.com"')}`,
    );
    expect(found.body.Resources.map((x: { id: string }) => x.id)).toEqual([u.id]);
  });

  it('sets the enterprise attributes by URN path and the core profile attributes Entra maps', async () => {
    const u = await create('profile.attrs@contoso.com');
    const ext = (a: string) => `${ENTERPRISE}:${a}`;
    const r = await req(
      'PATCH',
      `/scim/v2/Users/${u.id}`,
      patchOp(
        { op: 'Add', path: ext('employeeNumber'), value: '000123' },
        { op: 'Add', path: ext('costCenter'), value: 'CC-42' },
        { op: 'Add', path: ext('organization'), value: 'Contoso' },
        { op: 'Add', path: ext('division'), value: 'Insurance' },
        { op: 'Replace', path: ext('department'), value: 'Claims' },
        { op: 'Add', path: 'title', value: 'Adjuster' },
        { op: 'Add', path: 'preferredLanguage', value: 'en-US' },
        { op: 'Add', path: 'locale', value: 'de-CH' },
        { op: 'Add', path: 'userType', value: 'Member' },
        { op: 'Add', path: 'nickName', value: 'Prof' },
        { op: 'Add', path: 'timezone', value: 'Europe/Zurich' },
      ),
    );
    expect(r.status).toBe(200);
    expect(r.body[ENTERPRISE]).toEqual({
      employeeNumber: '000123',
      costCenter: 'CC-42',
      organization: 'Contoso',
      division: 'Insurance',
      department: 'Claims',
    });
    expect(r.body).toMatchObject({
      title: 'Adjuster',
      preferredLanguage: 'en-US',
      locale: 'de-CH',
      userType: 'Member',
      nickName: 'Prof',
      timezone: 'Europe/Zurich',
    });
    expect(r.body.schemas).toEqual([USER, ENTERPRISE]);
    // Entra's Accept-Language-shaped preferredLanguage (RFC 7643 §4.1.1 cites RFC 7231) is kept as sent.
    const lang = await req(
      'PATCH',
      `/scim/v2/Users/${u.id}`,
      patchOp({ op: 'Replace', path: 'preferredLanguage', value: 'da, en-gb;q=0.8, en;q=0.7' }),
    );
    expect(lang.body.preferredLanguage).toBe('da, en-gb;q=0.8, en;q=0.7');
    // RFC 7643 lets servers accept an underscore-separated locale; it is not rewritten.
    const locale = await req(
      'PATCH',
      `/scim/v2/Users/${u.id}`,
      patchOp({ op: 'Replace', path: 'locale', value: 'en_US' }),
    );
    expect(locale.body.locale).toBe('en_US');
    const byDept = await req(
      'GET',
      `/scim/v2/Users?filter=${encodeURIComponent(`${ext('employeeNumber')} eq "000123"`)}`,
    );
    expect(byDept.body.totalResults).toBe(1);
  });

  it('soft-deletes with active=false, hard-deletes, then re-provisions the same userName as a new user', async () => {
    const g = await req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'Leavers' });
    const u = await create('leaver@contoso.com');
    expect(
      (
        await req(
          'PATCH',
          `/scim/v2/Groups/${g.body.id}`,
          patchOp({ op: 'Add', path: 'members', value: [{ value: u.id }] }),
        )
      ).status,
    ).toBe(204);
    const off = await req(
      'PATCH',
      `/scim/v2/Users/${u.id}`,
      patchOp({ op: 'Replace', path: 'active', value: 'False' }),
    );
    expect(off.body.active).toBe(false);
    // Disabled users are still found by Entra's matching filter and keep their groups.
    const match = await req(
      'GET',
      `/scim/v2/Users?filter=${encodeURIComponent('userName eq "leaver@contoso.com"')}`,
    );
    expect(match.body.Resources).toEqual([expect.objectContaining({ id: u.id, active: false })]);
    expect((await req('DELETE', `/scim/v2/Users/${u.id}`)).status).toBe(204);
    expect((await req('GET', `/scim/v2/Users/${u.id}`)).status).toBe(404);
    const again = await create('Leaver@Contoso.com');
    expect(again.id).not.toBe(u.id);
    const got = await req('GET', `/scim/v2/Users/${again.id}`);
    expect(got.body).toMatchObject({ userName: 'Leaver@Contoso.com', active: true });
    expect(got.body.groups).toBeUndefined();
    const members = await req('GET', `/scim/v2/Groups/${g.body.id}`);
    expect(members.body.members ?? []).toEqual([]);
  });

  it('renames a group to a displayName another group had before it was renamed or deleted', async () => {
    const a = await req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'Finance' });
    const b = await req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'Accounting' });
    const taken = await req(
      'PATCH',
      `/scim/v2/Groups/${b.body.id}`,
      patchOp({ op: 'Replace', path: 'displayName', value: 'FINANCE' }),
    );
    expectScimError(taken, 409, 'uniqueness');
    const moved = await req(
      'PATCH',
      `/scim/v2/Groups/${a.body.id}`,
      patchOp({ op: 'Replace', path: 'displayName', value: 'Finance (old)' }),
    );
    expect(moved.status).toBe(204);
    const renamed = await req(
      'PATCH',
      `/scim/v2/Groups/${b.body.id}`,
      patchOp({ op: 'Replace', path: 'displayName', value: 'Finance' }),
    );
    expect(renamed.status).toBe(204);
    expect((await req('DELETE', `/scim/v2/Groups/${b.body.id}`)).status).toBe(204);
    const reuse = await req(
      'PATCH',
      `/scim/v2/Groups/${a.body.id}`,
      patchOp({ op: 'Replace', path: 'displayName', value: 'finance' }),
    );
    expect(reuse.status).toBe(204);
    expect((await req('GET', `/scim/v2/Groups/${a.body.id}`)).body.displayName).toBe('finance');
  });

  it('adds and removes a few hundred members in one operation (default profile)', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 400; i += 50)
      ids.push(
        ...(await Promise.all(
          Array.from({ length: 50 }, async (_, j) => (await create(`bulk${i + j}@contoso.com`)).id),
        )),
      );
    const g = await req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'Everyone' });
    const add = await req(
      'PATCH',
      `/scim/v2/Groups/${g.body.id}`,
      patchOp({ op: 'Add', path: 'members', value: ids.map((value) => ({ value })) }),
    );
    expect(add.status).toBe(204);
    const got = await req('GET', `/scim/v2/Groups/${g.body.id}`);
    expect(got.body.members).toHaveLength(400);
    const remove = await req(
      'PATCH',
      `/scim/v2/Groups/${g.body.id}`,
      patchOp({
        op: 'Remove',
        path: 'members',
        value: ids.slice(0, 300).map((value) => ({ value })),
      }),
    );
    expect(remove.status).toBe(204);
    expect((await req('GET', `/scim/v2/Groups/${g.body.id}`)).body.members).toHaveLength(100);
  });

  it('aws profile: more than 100 membership changes answer 400 exactly as IAM Identity Center does', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 101; i++) ids.push((await create(`aws${i}@contoso.com`, {}, aws)).id);
    const g = await req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'Cap' }, aws);
    expect(g.status).toBe(201);
    const ok = await req(
      'PATCH',
      `/scim/v2/Groups/${g.body.id}`,
      patchOp({ op: 'add', path: 'members', value: ids.slice(0, 100).map((value) => ({ value })) }),
      aws,
    );
    expect(ok.status).toBe(204);
    for (const body of [
      patchOp({ op: 'add', path: 'members', value: ids.map((value) => ({ value })) }),
      // Counted across operations: 60 adds and 41 removes.
      patchOp(
        { op: 'add', path: 'members', value: ids.slice(0, 60).map((value) => ({ value })) },
        { op: 'remove', path: 'members', value: ids.slice(60).map((value) => ({ value })) },
      ),
    ]) {
      const r = await req('PATCH', `/scim/v2/Groups/${g.body.id}`, body, aws);
      expect(r.status).toBe(400);
      expect(r.body).toEqual({
        schema: ['urn:ietf:params:scim:api:messages:2.0:Error'],
        schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
        detail: 'Request is unparsable, syntactically incorrect, or violates schema.',
        status: '400',
        exceptionRequestId: expect.any(String),
        timeStamp: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/),
      });
    }
    const create101 = await req(
      'POST',
      '/scim/v2/Groups',
      { schemas: [GROUP], displayName: 'Cap 2', members: ids.map((value) => ({ value })) },
      aws,
    );
    expect(create101.status).toBe(400);
    expect(create101.body.detail).toBe(
      'Request is unparsable, syntactically incorrect, or violates schema.',
    );
    expect(
      (
        await req(
          'GET',
          `/scim/v2/Groups?filter=${encodeURIComponent('displayName eq "Cap 2"')}`,
          undefined,
          aws,
        )
      ).body.totalResults,
    ).toBe(0);
  });
});
