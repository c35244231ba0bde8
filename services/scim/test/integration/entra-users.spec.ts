import { getWithRawHeaders } from '@idp/testing';
import { ENTERPRISE, patchOp, startScim, USER, type ScimTestApp } from '../support/scim-app';

// Requests as Microsoft Entra ID's provisioning service sends them (learn.microsoft.com: "Develop and
// plan provisioning for a SCIM endpoint", request/response examples), replayed against the default profile.

const q = (filter: string, extra = '') =>
  `/scim/v2/Users?filter=${encodeURIComponent(filter)}${extra}`;

const entraUser = (userName: string, externalId: string) => ({
  schemas: [USER, ENTERPRISE],
  externalId,
  userName,
  active: true,
  emails: [{ primary: true, type: 'work', value: `${userName}@testuser.com` }],
  meta: { resourceType: 'User' },
  name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
  roles: [],
});

describe('Entra ID user provisioning (default profile)', () => {
  let s: ScimTestApp;
  let token: string;
  beforeAll(async () => {
    s = await startScim();
    token = await s.directory('contoso');
  });
  afterAll(async () => s.close());

  const create = async (userName: string, externalId = `ext-${userName}`) => {
    const r = await s.request('POST', '/scim/v2/Users', {
      token,
      body: entraUser(userName, externalId),
    });
    expect(r.status).toBe(201);
    return r.body as { id: string; meta: { version: string } };
  };

  it('answers the connection test (filter on a random GUID) with 200 and an empty ListResponse', async () => {
    for (const path of ['/scim/v2/Users', '/scim/v2/Groups']) {
      const attr = path.endsWith('Users') ? 'userName' : 'displayName';
      const r = await s.request(
        'GET',
        `${path}?filter=${encodeURIComponent(`${attr} eq "${crypto.randomUUID()}"`)}`,
        { token },
      );
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toMatch(/^application\/scim\+json/);
      expect(r.body).toEqual({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
        totalResults: 0,
        itemsPerPage: 0,
        startIndex: 1,
        Resources: [],
      });
    }
  });

  it('creates a user and returns it with id and full meta; values stored exactly as sent', async () => {
    const body = entraUser('Test_User_ab6490ee', '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef');
    const r = await s.request('POST', '/scim/v2/Users', { token, body });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      userName: 'Test_User_ab6490ee',
      externalId: body.externalId,
      active: true,
      emails: body.emails,
      name: body.name,
      roles: [],
    });
    expect(r.body.meta).toEqual({
      resourceType: 'User',
      created: expect.any(String),
      lastModified: expect.any(String),
      location: expect.stringMatching(new RegExp(`/scim/v2/Users/${r.body.id}$`)),
      version: 'W/"1"',
    });
    expect(r.headers.location).toBe(r.body.meta.location);
    const got = await s.request('GET', `/scim/v2/Users/${r.body.id}`, { token });
    expect(got.status).toBe(200);
    expect(got.body.userName).toBe('Test_User_ab6490ee');
    expect(got.headers.etag).toBe('W/"1"');
    // Stored as sent, attribute order included.
    expect(Object.keys(got.body)).toEqual([
      'schemas',
      'id',
      'externalId',
      'userName',
      'active',
      'emails',
      'name',
      'roles',
      'meta',
    ]);
  });

  it('accepts application/json as well as application/scim+json', async () => {
    const r = await s.request('POST', '/scim/v2/Users', {
      token,
      body: entraUser('json-client', 'j1'),
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(201);
  });

  it('refuses a duplicate userName, in any case, with 409 uniqueness', async () => {
    await create('Dup.User@contoso.com');
    for (const userName of ['Dup.User@contoso.com', 'dup.user@CONTOSO.com']) {
      const r = await s.request('POST', '/scim/v2/Users', {
        token,
        body: entraUser(userName, 'other'),
      });
      expect(r.status).toBe(409);
      expect(r.body).toMatchObject({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
        scimType: 'uniqueness',
        status: '409',
      });
    }
  });

  it('finds users by userName in a different case, by externalId, id, emails.value and with and', async () => {
    const u = await create('Case.Test@Contoso.com', 'ext-case');
    for (const f of [
      'userName eq "case.test@contoso.com"',
      'userName eq "CASE.TEST@CONTOSO.COM"',
      'externalId eq "ext-case"',
      `id eq "${u.id}"`,
      'emails.value eq "case.test@contoso.com@testuser.com"',
      'emails[value eq "Case.Test@Contoso.com@testuser.com"]',
      'userName eq "Case.Test@Contoso.com" and externalId eq "ext-case"',
      'USERNAME EQ "case.test@contoso.com"',
    ]) {
      const r = await s.request('GET', q(f), { token });
      expect({
        f,
        status: r.status,
        ids: r.body.Resources.map((x: { id: string }) => x.id),
      }).toEqual({ f, status: 200, ids: [u.id] });
    }
    // externalId is case-exact (RFC 7643 §3.1).
    expect(
      (await s.request('GET', q('externalId eq "EXT-CASE"'), { token })).body.totalResults,
    ).toBe(0);
    expect(
      (
        await s.request('GET', q('userName eq "Case.Test@Contoso.com" and externalId eq "nope"'), {
          token,
        })
      ).body.totalResults,
    ).toBe(0);
  });

  it('answers unsupported or malformed filters with 400 invalidFilter', async () => {
    for (const f of [
      'nosuch co "x"',
      'title eq 5',
      'userName eq',
      'userName eq "x" garbage',
      '(userName eq "x"',
      'not userName eq "x"',
      'userName eq 12',
      'urn:x:y eq "1"',
    ]) {
      const r = await s.request('GET', q(f), { token });
      expect({ f, status: r.status, scimType: r.body.scimType }).toEqual({
        f,
        status: 400,
        scimType: 'invalidFilter',
      });
    }
  });

  it('replaces attributes the verbose way (path per attribute, op names in any case) and answers 200 with the resource', async () => {
    const u = await create('verbose@contoso.com');
    const r = await s.request('PATCH', `/scim/v2/Users/${u.id}`, {
      token,
      body: patchOp(
        {
          op: 'Replace',
          path: 'emails[type eq "work"].value',
          value: 'updatedEmail@microsoft.com',
        },
        { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
        { op: 'REPLACE', path: 'userName', value: 'verbose.renamed@contoso.com' },
        { op: 'Add', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 555 0100' },
        { op: 'Add', path: `${ENTERPRISE}:employeeNumber`, value: '42' },
      ),
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      id: u.id,
      userName: 'verbose.renamed@contoso.com',
      emails: [{ primary: true, type: 'work', value: 'updatedEmail@microsoft.com' }],
      name: {
        formatted: 'givenName familyName',
        familyName: 'updatedFamilyName',
        givenName: 'givenName',
      },
      phoneNumbers: [{ type: 'mobile', value: '+1 555 0100' }],
      [ENTERPRISE]: { employeeNumber: '42' },
    });
    expect(r.body.meta.version).toBe('W/"2"');
    expect(
      (await s.request('GET', q('emails.value eq "updatedemail@microsoft.com"'), { token })).body
        .totalResults,
    ).toBe(1);
  });

  it('applies a path-less replace whose value has dotted and URN-qualified keys', async () => {
    const manager = await create('the.manager@contoso.com');
    const u = await create('pathless@contoso.com');
    const r = await s.request('PATCH', `/scim/v2/Users/${u.id}`, {
      token,
      body: patchOp({
        op: 'replace',
        value: {
          displayName: 'Path Less',
          'name.givenName': 'Path',
          'name.familyName': 'Less',
          active: 'True',
          [`${ENTERPRISE}:manager`]: manager.id,
          [`${ENTERPRISE}:department`]: 'Sales',
        },
      }),
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      displayName: 'Path Less',
      name: { givenName: 'Path', familyName: 'Less', formatted: 'givenName familyName' },
      active: true,
    });
    expect(r.body[ENTERPRISE]).toEqual({ manager: { value: manager.id }, department: 'Sales' });
    expect(r.body.schemas).toEqual([USER, ENTERPRISE]);
  });

  it('adds, replaces and removes the manager', async () => {
    const m1 = await create('mgr1@contoso.com');
    const m2 = await create('mgr2@contoso.com');
    const u = await create('report@contoso.com');
    const path = `${ENTERPRISE}:manager`;
    const patch = (op: unknown) =>
      s.request('PATCH', `/scim/v2/Users/${u.id}`, { token, body: patchOp(op) });
    expect((await patch({ op: 'Add', path, value: m1.id })).body[ENTERPRISE].manager).toEqual({
      value: m1.id,
    });
    expect(
      (await patch({ op: 'Replace', path, value: [{ value: m2.id }] })).body[ENTERPRISE].manager,
    ).toEqual({ value: m2.id });
    expect(
      (await patch({ op: 'Replace', path: `${path}.value`, value: m1.id })).body[ENTERPRISE]
        .manager,
    ).toEqual({ value: m1.id });
    const removed = await patch({ op: 'Remove', path });
    expect(removed.status).toBe(200);
    expect(removed.body[ENTERPRISE]?.manager).toBeUndefined();
  });

  it('refuses a filter inside attributes (RFC 7644 allows only attribute names there) with 400 invalidValue', async () => {
    for (const attributes of ['emails[type eq "work"]', 'emails[type eq "work"].value']) {
      const r = await s.request(
        'GET',
        `/scim/v2/Users?attributes=${encodeURIComponent(attributes)}`,
        { token },
      );
      expect({ attributes, status: r.status, scimType: r.body.scimType }).toEqual({
        attributes,
        status: 400,
        scimType: 'invalidValue',
      });
      expect(r.body.detail).toMatch(/attribute names/);
    }
  });

  it('patches the whole enterprise extension with a value copied from a representation (its schemas key is ignored)', async () => {
    const u = await create('ext-schemas@contoso.com');
    const patch = (op: unknown) =>
      s.request('PATCH', `/scim/v2/Users/${u.id}`, { token, body: patchOp(op) });
    const byPath = await patch({
      op: 'replace',
      path: ENTERPRISE,
      value: { schemas: [ENTERPRISE], department: 'Finance' },
    });
    expect(byPath.status).toBe(200);
    expect(byPath.body[ENTERPRISE]).toEqual({ department: 'Finance' });
    const pathless = await patch({
      op: 'add',
      value: { [ENTERPRISE]: { SCHEMAS: [ENTERPRISE], costCenter: '42' } },
    });
    expect(pathless.status).toBe(200);
    expect(pathless.body[ENTERPRISE]).toEqual({ department: 'Finance', costCenter: '42' });
    // `schemas` of the resource itself still cannot be patched.
    expect((await patch({ op: 'replace', path: 'schemas', value: [USER] })).body.scimType).toBe(
      'mutability',
    );
  });

  it.each([
    ['the string "False"', 'False', 'str'],
    ['the boolean false', false, 'bool'],
  ])(
    'disables with %s; the user is still found by filters; active=true restores',
    async (_label, value, tag) => {
      const u = await create(`disable-${tag}@contoso.com`, `ext-disable-${tag}`);
      const off = await s.request('PATCH', `/scim/v2/Users/${u.id}`, {
        token,
        body: patchOp({ op: 'Replace', path: 'active', value }),
      });
      expect(off.status).toBe(200);
      expect(off.body.active).toBe(false);
      const found = await s.request('GET', q(`externalId eq "ext-disable-${tag}"`), { token });
      expect(found.body.Resources).toEqual([expect.objectContaining({ id: u.id, active: false })]);
      expect(
        (
          await s.request('GET', q(`userName eq "DISABLE-${tag.toUpperCase()}@contoso.com"`), {
            token,
          })
        ).body.totalResults,
      ).toBe(1);
      const on = await s.request('PATCH', `/scim/v2/Users/${u.id}`, {
        token,
        body: patchOp({ op: 'replace', value: { active: 'true' } }),
      });
      expect(on.body.active).toBe(true);
    },
  );

  it('replaces a user with PUT, honouring If-Match when sent', async () => {
    const u = await create('put@contoso.com');
    const stale = await s.request('PUT', `/scim/v2/Users/${u.id}`, {
      token,
      body: { ...entraUser('put@contoso.com', 'x'), displayName: 'A' },
      headers: { 'if-match': 'W/"7"' },
    });
    expect(stale.status).toBe(412);
    const ok = await s.request('PUT', `/scim/v2/Users/${u.id}`, {
      token,
      body: { ...entraUser('put@contoso.com', 'x'), displayName: 'A' },
      headers: { 'if-match': u.meta.version },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ displayName: 'A', externalId: 'x' });
    expect(ok.body.meta.version).toBe('W/"2"');
    const noHeader = await s.request('PUT', `/scim/v2/Users/${u.id}`, {
      token,
      body: entraUser('put@contoso.com', 'y'),
    });
    expect(noHeader.status).toBe(200);
  });

  it('applies a multi-operation PATCH atomically: one bad operation changes nothing', async () => {
    const u = await create('atomic@contoso.com');
    const r = await s.request('PATCH', `/scim/v2/Users/${u.id}`, {
      token,
      body: patchOp(
        { op: 'replace', path: 'displayName', value: 'Changed' },
        { op: 'replace', path: 'active', value: 'maybe' },
      ),
    });
    expect(r.status).toBe(400);
    expect(r.body.scimType).toBe('invalidValue');
    const got = await s.request('GET', `/scim/v2/Users/${u.id}`, { token });
    expect(got.body.displayName).toBeUndefined();
    expect(got.body.meta.version).toBe('W/"1"');
  });

  it('maps PATCH errors to scimType: invalidPath, mutability, uniqueness, noTarget', async () => {
    const a = await create('err-a@contoso.com');
    await create('err-b@contoso.com');
    const cases: [unknown, number, string][] = [
      [{ op: 'replace', path: 'emails[type eq', value: 'x' }, 400, 'invalidPath'],
      [{ op: 'replace', path: 'urn:unknown:schema:attr', value: 'x' }, 400, 'invalidPath'],
      [{ op: 'replace', path: 'id', value: 'x' }, 400, 'mutability'],
      [{ op: 'add', path: 'groups', value: [{ value: 'g' }] }, 400, 'mutability'],
      [{ op: 'replace', path: 'userName', value: 'ERR-B@contoso.com' }, 409, 'uniqueness'],
      [{ op: 'remove' }, 400, 'noTarget'],
      [{ op: 'move', path: 'x' }, 400, 'invalidSyntax'],
    ];
    for (const [op, status, scimType] of cases) {
      const r = await s.request('PATCH', `/scim/v2/Users/${a.id}`, { token, body: patchOp(op) });
      expect({ op, status: r.status, scimType: r.body.scimType }).toEqual({ op, status, scimType });
    }
  });

  it('deletes a user (204), then answers 404 for it, also on a second delete', async () => {
    const u = await create('delete.me@contoso.com');
    expect((await s.request('DELETE', `/scim/v2/Users/${u.id}`, { token })).status).toBe(204);
    const again = await s.request('DELETE', `/scim/v2/Users/${u.id}`, { token });
    expect(again.status).toBe(404);
    expect(again.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '404',
    });
    expect((await s.request('GET', `/scim/v2/Users/${u.id}`, { token })).status).toBe(404);
    expect(
      (
        await s.request('PATCH', `/scim/v2/Users/${u.id}`, {
          token,
          body: patchOp({ op: 'replace', path: 'active', value: false }),
        })
      ).status,
    ).toBe(404);
  });

  it('pages with startIndex/count and with AWS-style cursor/nextCursor', async () => {
    const t = await s.directory('paging');
    for (let i = 0; i < 7; i++)
      await s.request('POST', '/scim/v2/Users', {
        token: t,
        body: { schemas: [USER], userName: `p${i}` },
      });
    const p1 = await s.request('GET', '/scim/v2/Users?startIndex=1&count=3', { token: t });
    const p3 = await s.request('GET', '/scim/v2/Users?startIndex=7&count=3', { token: t });
    expect(p1.body).toMatchObject({ totalResults: 7, itemsPerPage: 3, startIndex: 1 });
    expect(p3.body).toMatchObject({ totalResults: 7, itemsPerPage: 1, startIndex: 7 });
    const seen: string[] = [];
    let cursor = '';
    for (let i = 0; i < 5; i++) {
      const r = await s.request('GET', `/scim/v2/Users?count=3&cursor=${cursor}`, { token: t });
      seen.push(...r.body.Resources.map((x: { userName: string }) => x.userName));
      if (!r.body.nextCursor) break;
      cursor = r.body.nextCursor;
    }
    expect(seen.sort()).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
    expect((await s.request('GET', '/scim/v2/Users?cursor=!!!', { token: t })).status).toBe(400);
    expect((await s.request('GET', '/scim/v2/Users?count=abc', { token: t })).body.scimType).toBe(
      'invalidValue',
    );
  });

  it('projects with attributes and excludedAttributes', async () => {
    const u = await create('proj@contoso.com');
    const a = await s.request('GET', `/scim/v2/Users/${u.id}?attributes=userName,name.givenName`, {
      token,
    });
    expect(a.body).toEqual({
      schemas: [USER, ENTERPRISE],
      id: u.id,
      userName: 'proj@contoso.com',
      name: { givenName: 'givenName' },
    });
    const e = await s.request(
      'GET',
      `/scim/v2/Users?filter=${encodeURIComponent('userName eq "proj@contoso.com"')}&excludedAttributes=emails,name`,
      { token },
    );
    expect(e.body.Resources[0].emails).toBeUndefined();
    expect(e.body.Resources[0].name).toBeUndefined();
    expect(e.body.Resources[0].userName).toBe('proj@contoso.com');
  });

  it('serves directories by path and keeps them apart', async () => {
    const other = await s.directory('fabrikam');
    const mine = await s.request('POST', '/fabrikam/scim/v2/Users', {
      token: other,
      body: { schemas: [USER], userName: 'Case.Test@Contoso.com' },
    });
    expect(mine.status).toBe(201);
    expect(mine.body.meta.location).toContain('/fabrikam/scim/v2/Users/');
    expect((await s.request('GET', `/scim/v2/Users/${mine.body.id}`, { token })).status).toBe(404);
    const wrongDir = await s.request('GET', '/contoso/scim/v2/Users', { token: other });
    expect(wrongDir.status).toBe(401);
  });

  it('refuses Authorization sent twice with 400 invalid_request (a proxy might read the other one)', async () => {
    const other = await s.directory('twice');
    await s.app.listen(0, '127.0.0.1');
    const url = new URL('/scim/v2/Users', await s.app.getUrl());
    const r = await getWithRawHeaders(url.toString(), [
      'authorization',
      `Bearer ${token}`,
      'authorization',
      `Bearer ${other}`,
    ]);
    expect(r.status).toBe(400);
    expect(r.headers['www-authenticate']).toBe('Bearer realm="scim", error="invalid_request"');
    expect(JSON.parse(r.body)).toMatchObject({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '400',
    });
  });

  it('needs a valid bearer token (RFC 6750 challenge on 401)', async () => {
    const none = await s.request('GET', '/scim/v2/Users');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="scim"');
    const bad = await s.request('GET', '/scim/v2/Users', { token: 'scim_nope' });
    expect(bad.status).toBe(401);
    expect(bad.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    expect(bad.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
  });

  it('refuses values PostgreSQL cannot store with 400, and unknown odd ids with 404, never 500', async () => {
    const nul = await s.request('POST', '/scim/v2/Users', {
      token,
      body: { schemas: [USER], userName: 'nul\u0000name' },
    });
    expect([nul.status, nul.body.scimType]).toEqual([400, 'invalidValue']);
    const long = await s.request('POST', '/scim/v2/Users', {
      token,
      body: { schemas: [USER], userName: 'long-ext', externalId: 'x'.repeat(5000) },
    });
    expect([long.status, long.body.scimType]).toEqual([400, 'invalidValue']);
    const group = await s.request('POST', '/scim/v2/Groups', {
      token,
      body: {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
        displayName: 'é'.repeat(3000),
      },
    });
    expect(group.status).toBe(400);
    expect((await s.request('GET', q('userName eq "a\u0000b"'), { token })).body.scimType).toBe(
      'invalidFilter',
    );
    for (const id of ['%00', 'x'.repeat(80)]) {
      const r = await s.request('GET', `/scim/v2/Users/${id}`, { token });
      expect({ id, status: r.status, body: r.text }).toMatchObject({ id, status: 404 });
      expect(
        (
          await s.request('PATCH', `/scim/v2/Groups/${id}`, {
            token,
            body: patchOp({ op: 'remove', path: 'members' }),
          })
        ).status,
      ).toBe(404);
    }
    // Broken percent-encoding is refused by the HTTP layer before routing.
    expect((await s.request('GET', '/scim/v2/Users/%E2%82', { token })).status).toBe(400);
  });

  it('answers a malformed JSON body with 400 invalidSyntax', async () => {
    const r = await s.request('POST', '/scim/v2/Users', {
      token,
      raw: '{"userName": ',
      headers: { 'content-type': 'application/scim+json' },
    });
    expect(r.status).toBe(400);
    expect(r.body.scimType).toBe('invalidSyntax');
  });

  it('publishes discovery documents', async () => {
    const spc = await s.request('GET', '/scim/v2/ServiceProviderConfig', { token });
    expect(spc.body).toMatchObject({
      patch: { supported: true },
      filter: { supported: true },
      etag: { supported: true },
    });
    const schemas = await s.request('GET', '/scim/v2/Schemas', { token });
    expect(schemas.body.Resources.map((x: { id: string }) => x.id)).toEqual([
      USER,
      ENTERPRISE,
      'urn:ietf:params:scim:schemas:core:2.0:Group',
    ]);
    const rt = await s.request('GET', '/scim/v2/ResourceTypes/User', { token });
    expect(rt.body).toMatchObject({
      endpoint: '/Users',
      schemaExtensions: [{ schema: ENTERPRISE, required: false }],
    });
    // RFC 7643 §8.7: schema names and descriptions, canonical type values, reference types.
    type Attr = {
      name: string;
      subAttributes?: Attr[];
      canonicalValues?: string[];
      referenceTypes?: string[];
    };
    const docs: { id: string; name: string; description: string; attributes: Attr[] }[] =
      schemas.body.Resources;
    expect(docs.map((d) => [d.name, d.description])).toEqual([
      ['User', 'User Account'],
      ['EnterpriseUser', 'Enterprise User'],
      ['Group', 'Group'],
    ]);
    const sub = (doc: number, a: string, x: string) =>
      docs[doc]?.attributes.find((d) => d.name === a)?.subAttributes?.find((d) => d.name === x);
    expect(sub(0, 'emails', 'type')?.canonicalValues).toEqual(['work', 'home', 'other']);
    expect(sub(0, 'groups', '$ref')?.referenceTypes).toEqual(['Group']);
    expect(sub(1, 'manager', '$ref')?.referenceTypes).toEqual(['User']);
    // Members are users only (no nested groups: a group id as a member is 400).
    expect(sub(2, 'members', '$ref')?.referenceTypes).toEqual(['User']);
    expect(sub(2, 'members', 'type')?.canonicalValues).toEqual(['User']);
    expect(spc.body.sort).toEqual({ supported: true });
  });
});
