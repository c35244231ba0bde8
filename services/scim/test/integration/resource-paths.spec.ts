import { startScim, USER, type ScimTestApp } from '../support/scim-app';

// Resource-type segments are matched case-insensitively and one trailing slash is accepted
// (clients send `/users` and `/Users/`); ids and the directory keep their case.

describe('SCIM resource paths', () => {
  describe('over HTTP', () => {
    let s: ScimTestApp;
    let token: string;
    beforeAll(async () => {
      s = await startScim();
      token = await s.directory('Paths-Dir');
    });
    afterAll(() => s.close());

    it('creates, reads, lists and patches through lower-case and trailing-slash paths', async () => {
      const created = await s.request('POST', '/scim/v2/users/', {
        token,
        body: { schemas: [USER], userName: 'Case.Path@contoso.com' },
      });
      expect(created.status).toBe(201);
      const id = (created.body as { id: string }).id;
      expect((await s.request('GET', `/scim/v2/USERS/${id}/`, { token })).status).toBe(200);
      const listed = await s.request(
        'GET',
        '/Paths-Dir/scim/v2/users?filter=userName%20eq%20%22case.path@contoso.com%22',
        { token },
      );
      expect(listed.status).toBe(200);
      expect((listed.body as { totalResults: number }).totalResults).toBe(1);
      const patched = await s.request('PATCH', `/scim/v2/users/${id}`, {
        token,
        body: {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
          Operations: [{ op: 'replace', path: 'active', value: false }],
        },
      });
      expect(patched.status).toBe(200);
      expect((await s.request('GET', '/scim/v2/serviceproviderconfig', { token })).status).toBe(
        200,
      );
      // An id is not a resource type: its case is kept, so another case is another (unknown) id.
      expect((await s.request('GET', `/scim/v2/Users/${id.toUpperCase()}`, { token })).status).toBe(
        id === id.toUpperCase() ? 200 : 404,
      );
    });
  });
});
