import { Pool } from 'pg';
import {
  expectScimError,
  startScimWithAdmin,
  type Reply,
  type ScimAdminApp,
} from '../support/scim-app';

/** Text a caller put in the request, which no error may repeat. */
const MARK = 'zq<script>';

/** The admin API's one error shape: exactly `{ error, error_description }`, JSON, never cached. */
function expectAdminError(r: Reply, status: number, error: string): void {
  expect({ status: r.status, body: r.body }).toEqual({
    status,
    body: { error, error_description: expect.any(String) },
  });
  expect(r.headers['content-type']).toMatch(/^application\/json/);
  expect(r.text).not.toContain('zq');
  expect(r.text).not.toMatch(/<|%3C/i);
}

// Every layer under /admin answers in one shape: validation, authentication (with its RFC 6750
// challenge), Nest's and Fastify's refusals (404, 405, 413, 415, bad JSON) and a busy database.
describe('admin API: one error shape from every layer', () => {
  let app: ScimAdminApp;
  beforeAll(async () => {
    app = await startScimWithAdmin({
      SCIM_BODY_LIMIT_BYTES: '1024',
      DATABASE_STATEMENT_TIMEOUT_MS: '300',
    });
    await app.asAdmin('POST', '/admin/directories', { id: 'shape' });
  });
  afterAll(() => app.close());

  const raw = (method: string, url: string, payload: string, type: string, token = app.admin) =>
    app.s.request(method, url, { token, raw: payload, headers: { 'content-type': type } });

  it('401 and 403 keep their WWW-Authenticate challenge', async () => {
    const none = await app.s.request('GET', '/admin/directories');
    expectAdminError(none, 401, 'unauthorized');
    expect(none.headers['www-authenticate']).toBe('Bearer realm="scim-admin"');
    const scimToken = await app.s.directory('shape-scim');
    const wrong = await app.s.request('GET', '/admin/directories/shape', { token: scimToken });
    expectAdminError(wrong, 401, 'invalid_token');
    expect(wrong.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
    const noRole = await app.s.request('GET', '/admin/directories/shape', {
      token: await app.idp.appToken({ roles: ['Other.Role'] }),
    });
    expectAdminError(noRole, 403, 'insufficient_scope');
    expect(noRole.headers['www-authenticate']).toMatch(/^Bearer error="insufficient_scope"/);
  });

  it('400 for validation, unknown keys (named only when harmless) and malformed JSON', async () => {
    const bad = await app.asAdmin('POST', '/admin/directories/shape/tokens', {
      name: 'n',
      [MARK]: 1,
    });
    expectAdminError(bad, 400, 'invalid_request');
    expect(bad.body.error_description).toMatch(/unknown key/);
    const misspelt = await app.asAdmin('POST', '/admin/directories/shape/tokens', { nme: 'n' });
    expectAdminError(misspelt, 400, 'invalid_request');
    expect(misspelt.body.error_description).toMatch(/"nme"/);
    const query = await app.asAdmin(
      'GET',
      `/admin/directories/shape/provisioning-log?${encodeURIComponent(MARK)}=1`,
    );
    expectAdminError(query, 400, 'invalid_request');
    const value = await app.asAdmin(
      'GET',
      `/admin/directories/shape/provisioning-log?since=${encodeURIComponent(MARK)}`,
    );
    expectAdminError(value, 400, 'invalid_request');
    const json = await raw(
      'POST',
      '/admin/directories/shape/tokens',
      `{"name": "${MARK}`,
      'application/json',
    );
    expectAdminError(json, 400, 'invalid_request');
    expect(json.body.error_description).toBe('The request body is not valid JSON');
    const badId = await app.asAdmin('GET', `/admin/directories/${encodeURIComponent(MARK)}`);
    expectAdminError(badId, 400, 'invalid_request');
  });

  it('404 for an unknown endpoint or directory, 405 with Allow for a wrong method, without the path', async () => {
    expectAdminError(
      await app.asAdmin('GET', `/admin/${encodeURIComponent(MARK)}/x`),
      404,
      'not_found',
    );
    expectAdminError(await app.asAdmin('GET', '/admin'), 404, 'not_found');
    expectAdminError(
      await app.asAdmin('GET', '/admin/directories/zq-nope/tokens'),
      404,
      'not_found',
    );
    expectAdminError(
      await app.asAdmin('DELETE', '/admin/directories/shape/tokens/zq-tok'),
      404,
      'not_found',
    );
    const patch = await app.asAdmin('PATCH', '/admin/directories/shape/tokens', { name: 'x' });
    expectAdminError(patch, 405, 'method_not_allowed');
    expect(String(patch.headers.allow).split(', ').sort()).toEqual(['GET', 'HEAD', 'POST']);
    const audit = await app.asAdmin('DELETE', '/admin/audit');
    expectAdminError(audit, 405, 'method_not_allowed');
    expect(audit.headers.allow).toBe('GET, HEAD');
  });

  it('409, 413 and 415 in the same shape', async () => {
    expectAdminError(
      await app.asAdmin('POST', '/admin/directories', { id: 'shape' }),
      409,
      'conflict',
    );
    const big = await app.asAdmin('POST', '/admin/directories/shape/tokens', {
      name: 'n',
      pad: MARK.repeat(200),
    });
    expectAdminError(big, 413, 'payload_too_large');
    const form = await raw(
      'POST',
      '/admin/directories/shape/tokens',
      `name=${MARK}`,
      'application/x-www-form-urlencoded',
    );
    expectAdminError(form, 415, 'unsupported_media_type');
    const text = await raw('PUT', '/admin/directories/shape', '{"profile":"aws"}', 'text/plain');
    expectAdminError(text, 415, 'unsupported_media_type');
    expect((await app.asAdmin('GET', '/admin/directories/shape')).body.profile).toBe('default');
  });

  it('503 when the database is busy', async () => {
    const db = new Pool({ connectionString: app.s.databaseUrl, max: 1 });
    const blocker = await db.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE directories IN ACCESS EXCLUSIVE MODE');
      expectAdminError(
        await app.asAdmin('GET', '/admin/directories'),
        503,
        'temporarily_unavailable',
      );
      expectAdminError(
        await app.asAdmin('POST', '/admin/directories', { id: 'shape-busy' }),
        503,
        'temporarily_unavailable',
      );
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
      await db.end();
    }
  });

  it("the router's own refusals (414 over-long parameter, 400 malformed percent-encoding) in the same shape", async () => {
    expectAdminError(
      await app.asAdmin('GET', `/admin/directories/${'zq'.repeat(150)}/tokens`),
      414,
      'uri_too_long',
    );
    expectAdminError(
      await app.asAdmin('GET', '/admin/directories/%ff%3Cscript/tokens'),
      400,
      'invalid_request',
    );
  });

  it('leaves the SCIM API its own error schema', async () => {
    const token = await app.s.directory('shape-scim2');
    expectScimError(await app.s.request('GET', '/scim/v2/Nope', { token }), 404);
    expectScimError(await app.s.request('GET', '/scim/v2/Users'), 401);
  });
});
