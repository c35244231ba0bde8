import { GROUP, USER, expectScimError, startScim, type ScimTestApp } from '../support/scim-app';

// An attribute given twice in one object ("userName" and "USERNAME" are one attribute, RFC 7643
// §2.1) is refused before anything reads it: which copy JSON.parse or a case-insensitive lookup
// keeps is arbitrary, and a gateway in front may have checked the other one.

describe('an attribute given twice in one object', () => {
  let s: ScimTestApp;
  let token: string;
  let userId: string;
  let groupId: string;
  beforeAll(async () => {
    s = await startScim();
    token = await s.directory('duplicates');
    userId = (
      await s.request('POST', '/scim/v2/Users', {
        token,
        body: { schemas: [USER], userName: 'kept', name: { givenName: 'K', familyName: 'Ept' } },
      })
    ).body.id;
    groupId = (
      await s.request('POST', '/scim/v2/Groups', {
        token,
        body: { schemas: [GROUP], displayName: 'kept-group' },
      })
    ).body.id;
  });
  afterAll(async () => {
    await s.close();
  });

  const raw = (method: string, url: string, text: string) =>
    s.request(method, url, {
      token,
      raw: text,
      headers: { 'content-type': 'application/scim+json' },
    });
  const patch = (ops: string) =>
    `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":${ops}}`;

  it.each([
    [
      'the same name',
      'POST',
      '/scim/v2/Users',
      `{"schemas":["${USER}"],"userName":"a","userName":"b"}`,
      'userName',
    ],
    [
      'names differing in case',
      'POST',
      '/scim/v2/Users',
      `{"schemas":["${USER}"],"userName":"a","USERNAME":"b"}`,
      'USERNAME',
    ],
    [
      'a name written with an escape',
      'POST',
      '/scim/v2/Users',
      `{"schemas":["${USER}"],"userName":"a","\\u0075serName":"b"}`,
      'userName',
    ],
    [
      'a sub-attribute',
      'PUT',
      'USER',
      `{"schemas":["${USER}"],"userName":"kept","name":{"givenName":"x","givenname":"y"}}`,
      'givenname',
    ],
    [
      'in a PATCH operation',
      'PATCH',
      'USER',
      patch('[{"op":"replace","path":"displayName","value":"x","Value":"y"}]'),
      'Value',
    ],
    [
      'the PATCH message itself',
      'PATCH',
      'GROUP',
      patch('[]').replace('{', '{"Operations":[],'),
      'Operations',
    ],
    [
      'a group member',
      'PUT',
      'GROUP',
      `{"schemas":["${GROUP}"],"displayName":"kept-group","members":[{"value":"a","value":"b"}]}`,
      'value',
    ],
  ])('400 invalidSyntax for %s, nothing changed', async (_what, method, where, text, name) => {
    const url =
      where === 'USER'
        ? `/scim/v2/Users/${userId}`
        : where === 'GROUP'
          ? `/scim/v2/Groups/${groupId}`
          : where;
    const r = await raw(method, url, text);
    expectScimError(r, 400, 'invalidSyntax');
    expect(r.body.detail).toContain(`"${name}" twice`);
    const user = await s.request('GET', `/scim/v2/Users/${userId}`, { token });
    expect(user.body).toMatchObject({ userName: 'kept', meta: { version: 'W/"1"' } });
    const group = await s.request('GET', `/scim/v2/Groups/${groupId}`, { token });
    expect(group.body).toMatchObject({ displayName: 'kept-group', meta: { version: 'W/"1"' } });
    const list = await s.request('GET', '/scim/v2/Users', { token });
    expect(list.body.totalResults).toBe(1);
  });

  it('the same name in sibling objects or at different levels is fine', async () => {
    const r = await raw(
      'POST',
      '/scim/v2/Users',
      `{"schemas":["${USER}"],"userName":"siblings","name":{"givenName":"S","familyName":"Ib"},"emails":[{"value":"a@example.com","type":"work"},{"value":"b@example.com","type":"home"}]}`,
    );
    expect(r.status).toBe(201);
    await s.request('DELETE', `/scim/v2/Users/${r.body.id}`, { token });
  });
});
