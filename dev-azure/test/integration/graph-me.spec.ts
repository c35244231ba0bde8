// Graph /v1.0/me over HTTP with a delegated token from the External ID tenant: PATCH takes
// Graph's property limits (displayName 256 characters, givenName and surname 64).
import { seed, startTestAzure, type TestAzure } from '../support/harness';

const { contosoext } = seed;
let t: TestAzure;
let token: string;

beforeAll(async () => {
  t = await startTestAzure();
  const tokens = await t.azure.identity.issueExternalUserTokens({
    tenant: contosoext.name,
    userEmail: contosoext.carol.email,
    clientId: contosoext.portal.clientId,
    scopes: ['User.ReadWrite'],
  });
  if (!tokens.access_token) throw new Error('no Graph access token issued');
  token = tokens.access_token;
});
afterAll(async () => {
  await t.stop();
});

const patch = (body: unknown) =>
  fetch(`${t.azure.identityUrl}/v1.0/me`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('Graph PATCH /v1.0/me', () => {
  it('takes a displayName of up to 256 characters, as Graph does', async () => {
    const displayName = `Carol ${'N'.repeat(250)}`;
    expect(displayName).toHaveLength(256);
    expect((await patch({ displayName })).status).toBe(204);
    const me = await fetch(`${t.azure.identityUrl}/v1.0/me?$select=displayName`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(((await me.json()) as { displayName: string }).displayName).toBe(displayName);
  });

  it('refuses longer values with 400 Request_BadRequest', async () => {
    for (const body of [
      { displayName: 'D'.repeat(257) },
      { givenName: 'G'.repeat(65) },
      { surname: 'S'.repeat(65) },
    ]) {
      const res = await patch(body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
        'Request_BadRequest',
      );
    }
    expect((await patch({ givenName: 'G'.repeat(64), surname: 'S'.repeat(64) })).status).toBe(204);
  });

  it("counts UTF-16 code units (an emoji is 2) and answers Graph's exact messages", async () => {
    expect((await patch({ givenName: '\u{1F600}'.repeat(32) })).status).toBe(204);
    const long = await patch({ givenName: '\u{1F600}'.repeat(32) + 'x' });
    expect(long.status).toBe(400);
    expect(((await long.json()) as { error: { message: string } }).error.message).toBe(
      "Invalid value specified for property 'givenName' of resource 'User'.",
    );
    for (const displayName of [null, '', '   ']) {
      const res = await patch({ displayName });
      expect({ displayName, status: res.status }).toEqual({ displayName, status: 400 });
      expect(((await res.json()) as { error: { code: string; message: string } }).error).toEqual(
        expect.objectContaining({
          code: 'Request_BadRequest',
          message: "A value is required for property 'displayName' of resource 'User'.",
        }),
      );
    }
  });
});

describe('Graph PATCH /v1.0/me with null', () => {
  const me = async () =>
    (await (
      await fetch(`${t.azure.identityUrl}/v1.0/me?$select=displayName,givenName,surname`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as { displayName: string; givenName: string | null; surname: string | null };
  /** The ID token claims the portal (whose optional claims ask for the names) now gets for carol. */
  const idClaims = async () => {
    const tokens = await t.azure.identity.issueExternalUserTokens({
      tenant: contosoext.name,
      userEmail: contosoext.carol.email,
      clientId: contosoext.portal.clientId,
      scopes: ['openid'],
    });
    const payload = (tokens.id_token ?? '').split('.')[1] ?? '';
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
  };

  it('clears givenName and surname, as Graph does; the names then read as null and leave the tokens', async () => {
    expect((await patch({ givenName: 'Carol', surname: 'Jones' })).status).toBe(204);
    expect(await idClaims()).toEqual(
      expect.objectContaining({ given_name: 'Carol', family_name: 'Jones' }),
    );

    expect((await patch({ givenName: null, surname: null })).status).toBe(204);
    const cleared = await me();
    expect(cleared).toEqual(expect.objectContaining({ givenName: null, surname: null }));
    expect(cleared.displayName).toBeTruthy();
    const claims = await idClaims();
    expect(claims).not.toHaveProperty('given_name');
    expect(claims).not.toHaveProperty('family_name');

    // One at a time, and set again afterwards.
    expect((await patch({ givenName: 'Carol' })).status).toBe(204);
    expect(await me()).toEqual(expect.objectContaining({ givenName: 'Carol', surname: null }));
  });

  it('still refuses an empty string, null for the required displayName, and control characters', async () => {
    const before = await me();
    for (const body of [
      { givenName: '' },
      { surname: '  ' },
      { displayName: null },
      { displayName: 'Carol\u0000' },
      { givenName: 'Car\tol' },
      { surname: 'J\u0085' },
      // A lone surrogate (sent as \ud800 in the JSON).
      { displayName: 'C\ud800' },
    ]) {
      const res = await patch(body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
        'Request_BadRequest',
      );
    }
    expect(await me()).toEqual(before);
  });
});

describe('Graph GET /v1.0/me $select', () => {
  const get = (query: string) =>
    fetch(`${t.azure.identityUrl}/v1.0/me?${query}`, {
      headers: { authorization: `Bearer ${token}` },
    });
  type GraphBody = Record<string, unknown> & { error?: { code: string; message: string } };

  it('reads property and option names case-insensitively and answers under the real names', async () => {
    // MS Learn ("Traverse the graph"): query parameters and property names are not case-sensitive.
    for (const query of [
      '$select=DisplayName,ID',
      '$SELECT=displayname,id',
      '%24Select=DISPLAYNAME,Id',
    ]) {
      const res = await get(query);
      expect({ query, status: res.status }).toEqual({ query, status: 200 });
      const body = (await res.json()) as GraphBody;
      expect(Object.keys(body).sort()).toEqual(['@odata.context', 'displayName', 'id']);
      expect(body.displayName).toEqual(expect.any(String));
      // The context URL names what was selected, as Graph's does (msgraph-sdk-dotnet#488).
      expect(body['@odata.context']).toBe(
        'https://graph.microsoft.com/v1.0/$metadata#users(displayName,id)/$entity',
      );
    }
  });

  it('names no properties in the context URL without $select', async () => {
    for (const query of ['', '$select=']) {
      const body = (await (await get(query)).json()) as GraphBody;
      expect(body['@odata.context']).toBe(
        'https://graph.microsoft.com/v1.0/$metadata#users/$entity',
      );
      expect(body).toEqual(
        expect.objectContaining({ displayName: expect.any(String), id: expect.any(String) }),
      );
    }
  });

  it("refuses $select given twice with OData's 400, whatever the spelling", async () => {
    for (const query of [
      '$select=displayName&$select=id',
      '$select=id&$select=id',
      '$select=id&%24SELECT=mail',
      '$select=&$select=',
    ]) {
      const res = await get(query);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect(((await res.json()) as GraphBody).error).toEqual(
        expect.objectContaining({
          code: 'BadRequest',
          message:
            "Query option '$select' was specified more than once, but it must be specified at most once.",
        }),
      );
    }
  });

  it('still refuses an unknown property, showing a control character escaped', async () => {
    const res = await get('$select=displayName,%00x');
    expect(res.status).toBe(400);
    expect(((await res.json()) as GraphBody).error?.message).toBe(
      "Could not find a property named '\\u0000x' on type 'microsoft.graph.user'.",
    );
  });
});

describe('Graph PATCH /v1.0/me property names', () => {
  it('takes them case-insensitively, as Graph does, and still refuses read-only ones', async () => {
    expect((await patch({ DisplayName: 'Carol Cased', GIVENNAME: 'Caro' })).status).toBe(204);
    const me = (await (
      await fetch(`${t.azure.identityUrl}/v1.0/me?$select=displayName,givenName`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as Record<string, unknown>;
    expect(me).toEqual(expect.objectContaining({ displayName: 'Carol Cased', givenName: 'Caro' }));

    const readOnly = await patch({ Mail: 'x@example.com' });
    expect(readOnly.status).toBe(400);
    expect(((await readOnly.json()) as { error: { message: string } }).error.message).toBe(
      "Property 'Mail' is read-only and cannot be set.",
    );
    const invalid = await patch({ SURNAME: '' });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: { message: string } }).error.message).toBe(
      "Invalid value specified for property 'surname' of resource 'User'.",
    );
  });
});

describe('Graph paths this stand-in does not serve', () => {
  const graphError = async (res: Response) =>
    ((await res.json()) as { error: { code: string; message: string; innerError: object } }).error;

  it("answers an unknown segment with Graph's 400 BadRequest, not an OAuth-shaped 404", async () => {
    for (const [path, segment] of [
      ['/v1.0/me/memberOf', 'memberOf'],
      ['/v1.0/users', 'users'],
      ['/v1.0/%ZZ', '%ZZ'],
      ['/v1.0/me/%F0%9F%98%80', '\u{1F600}'],
    ] as const) {
      const res = await fetch(`${t.azure.identityUrl}${path}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
      const error = await graphError(res);
      expect(error.code).toBe('BadRequest');
      expect(error.message).toBe(`Resource not found for the segment '${segment}'.`);
      expect(error.innerError).toHaveProperty('request-id');
    }
  });

  it('answers the same whatever the body: one that cannot be parsed is never an OAuth-shaped error', async () => {
    for (const [method, path, body, status, code] of [
      ['POST', '/v1.0/users', '{bad', 400, 'BadRequest'],
      ['PUT', '/v1.0/me/photo', '{"a":', 400, 'BadRequest'],
      ['DELETE', '/v1.0/me', '{bad', 405, 'Request_BadRequest'],
      ['POST', '/v1.0/me', `"${'x'.repeat(2 * 1024 * 1024)}"`, 405, 'Request_BadRequest'],
    ] as const) {
      const res = await fetch(`${t.azure.identityUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
      });
      expect({ method, path, status: res.status }).toEqual({ method, path, status });
      const error = await graphError(res);
      expect(error.code).toBe(code);
      expect(error.innerError).toHaveProperty('request-id');
    }
  });

  it("answers another method on /me with 405 in Graph's shape", async () => {
    for (const method of ['DELETE', 'PUT', 'POST']) {
      const res = await fetch(`${t.azure.identityUrl}/v1.0/me`, {
        method,
        headers: { authorization: `Bearer ${token}` },
      });
      expect({ method, status: res.status }).toEqual({ method, status: 405 });
      expect((await graphError(res)).code).toBe('Request_BadRequest');
    }
  });
});
