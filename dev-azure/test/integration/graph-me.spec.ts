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
});
