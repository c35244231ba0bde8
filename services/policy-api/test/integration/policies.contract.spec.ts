import { randomUUID } from 'node:crypto';
import { callJson, getWithRawHeaders } from '@idp/testing';
import { Harness } from '../support/harness';
import { challengeParams, split, type ErrorBody, type PolicyBody } from '../support/fixtures';
import { MFA_FLOW } from '../support/tokens';

// Contract of GET /policies/me, GET /policies/{number}, /public, /openapi.json and the token rules.
describe('policy-api: policies and token rules', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start();
  }, 60000);
  afterAll(async () => {
    await h?.stop();
  });

  const readToken = (oid: string, scopes = ['Accounts.Read']) =>
    h.issuer.userToken({ oid, scopes });

  describe('GET /policies/me', () => {
    it('creates the caller’s policy on first read, with a unique number and an ETag, then returns the same one', async () => {
      const oid = randomUUID();
      const first = await h.call<PolicyBody>('GET', '/policies/me', {
        token: await readToken(oid),
      });
      expect(first.status).toBe(201); // this read created it
      expect(first.body).toEqual({
        policyNumber: expect.stringMatching(/^PN\d{10}$/),
        holderOid: oid,
        version: 1,
        beneficiaries: [],
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      expect(first.headers.get('etag')).toBe('"v1"');
      expect(first.headers.get('cache-control')).toBe('no-store');
      const again = await h.call<PolicyBody>('GET', '/policies/me', {
        token: await readToken(oid),
      });
      expect(again.status).toBe(200);
      expect(again.body.policyNumber).toBe(first.body.policyNumber);
      const other = await h.call<PolicyBody>('GET', '/policies/me', {
        token: await readToken(randomUUID()),
      });
      expect(other.body.policyNumber).not.toBe(first.body.policyNumber);
    });

    it('selects the policy by oid, never by email', async () => {
      const oid = randomUUID();
      const a = await h.call<PolicyBody>('GET', '/policies/me', {
        token: await h.issuer.userToken({ oid, emails: ['old@contoso.example'] }),
      });
      // The user changed their email: same oid, same policy.
      const b = await h.call<PolicyBody>('GET', '/policies/me', {
        token: await h.issuer.userToken({ oid, emails: ['new@contoso.example'] }),
      });
      expect(b.body.policyNumber).toBe(a.body.policyNumber);
      // Someone else now holds the old address: a different person, a different policy.
      const c = await h.call<PolicyBody>('GET', '/policies/me', {
        token: await h.issuer.userToken({ oid: randomUUID(), emails: ['old@contoso.example'] }),
      });
      expect(c.body.policyNumber).not.toBe(a.body.policyNumber);
      const { rows } = await h.db.query(
        'SELECT count(*)::int AS n FROM policies WHERE holder_oid = $1',
        [oid],
      );
      expect(rows[0].n).toBe(1);
    });

    it('requires a bearer token (401 with an RFC 6750 challenge)', async () => {
      const r = await h.call<ErrorBody>('GET', '/policies/me');
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer realm="/);
    });

    it.each([
      ['a malformed token', async () => 'not-a-jwt'],
      [
        'a token for another audience',
        async () => h.issuer.userToken({ oid: randomUUID(), audience: 'api://someone-else' }),
      ],
      [
        'a token from a user flow this API does not accept',
        async () => h.issuer.userToken({ oid: randomUUID(), flow: 'B2C_1_passwordreset' }),
      ],
    ])('rejects %s with 401 invalid_token (never 500)', async (_what, mint) => {
      const r = await h.call<ErrorBody>('GET', '/policies/me', { token: await mint() });
      expect(r.status).toBe(401);
      expect(r.body.error).toBe('invalid_token');
      expect(challengeParams(r.headers.get('www-authenticate')).error).toBe('invalid_token');
    });

    it('needs the Accounts.Read scope (403 insufficient_scope naming it)', async () => {
      const r = await h.call<ErrorBody>('GET', '/policies/me', {
        token: await readToken(randomUUID(), ['Accounts.Write']),
      });
      expect(r.status).toBe(403);
      expect(r.body.error).toBe('insufficient_scope');
      expect(challengeParams(r.headers.get('www-authenticate')).scope).toBe('Accounts.Read');
    });

    it('refuses app-only tokens (they have no "me")', async () => {
      const r = await h.call<ErrorBody>('GET', '/policies/me', {
        token: await h.issuer.appToken({ roles: ['Policies.Read.All'] }),
      });
      expect(r.status).toBe(403);
      expect(r.body.error).toBe('insufficient_scope');
    });

    it('refuses a workforce user’s token with 403 and an insufficient_scope challenge', async () => {
      const r = await h.call<ErrorBody>('GET', '/policies/me', {
        token: await h.issuer.workforceUserToken(randomUUID()),
      });
      expect(r.status).toBe(403);
      expect(r.body.error).toBe('insufficient_scope');
      expect(challengeParams(r.headers.get('www-authenticate')).error).toBe('insufficient_scope');
      expect(r.headers.get('cache-control')).toBe('no-store');
    });

    it('refuses a request that sends Authorization twice (400 invalid_request, neither token used)', async () => {
      const [alice, bob] = [randomUUID(), randomUUID()];
      for (const oid of [alice, bob]) {
        const first = await h.call('GET', '/policies/me', { token: await readToken(oid) });
        expect([200, 201]).toContain(first.status);
      }
      const r = await getWithRawHeaders(`${h.url}/policies/me`, [
        'authorization',
        `Bearer ${await readToken(alice)}`,
        'authorization',
        `Bearer ${await readToken(bob)}`,
      ]);
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body)).toMatchObject({ error: 'invalid_request' });
      expect(challengeParams(r.headers['www-authenticate'] ?? null).error).toBe('invalid_request');
    });
  });

  describe('GET /policies/{number} (daemons)', () => {
    let policy: PolicyBody;
    beforeAll(async () => {
      policy = (
        await h.call<PolicyBody>('GET', '/policies/me', { token: await readToken(randomUUID()) })
      ).body;
    });

    it('lets an app-only token with the Policies.Read.All app role read any policy', async () => {
      const r = await h.call<PolicyBody>('GET', `/policies/${policy.policyNumber}`, {
        token: await h.issuer.appToken({ roles: ['Policies.Read.All'] }),
      });
      expect(r.status).toBe(200);
      expect(r.body).toEqual(policy);
      expect(r.headers.get('etag')).toBe('"v1"');
    });

    it('refuses an app-only token without the role', async () => {
      const r = await h.call<ErrorBody>('GET', `/policies/${policy.policyNumber}`, {
        token: await h.issuer.appToken({ roles: ['Something.Else'] }),
      });
      expect(r.status).toBe(403);
      const none = await h.call<ErrorBody>('GET', `/policies/${policy.policyNumber}`, {
        token: await h.issuer.appToken(),
      });
      expect(none.status).toBe(403);
    });

    it('never serves delegated tokens, whatever their scopes or flow', async () => {
      const owner = policy.holderOid;
      for (const token of [
        await h.issuer.userToken({
          oid: randomUUID(),
          scopes: ['Accounts.Read', 'Accounts.Write'],
        }),
        await h.issuer.userToken({ oid: owner, flow: MFA_FLOW }),
      ]) {
        const r = await h.call<ErrorBody>('GET', `/policies/${policy.policyNumber}`, { token });
        expect(r.status).toBe(403);
        expect(r.body.error).toBe('insufficient_scope');
      }
    });

    it('answers 404 for an unknown number and 400 for a malformed one', async () => {
      const token = await h.issuer.appToken({ roles: ['Policies.Read.All'] });
      const missing = await h.call<ErrorBody>('GET', '/policies/PN0000000000', { token });
      expect(missing.status).toBe(404);
      expect(missing.body.error).toBe('not_found');
      const bad = await h.call<ErrorBody>('GET', '/policies/alice@contoso.example', { token });
      expect(bad.status).toBe(400);
      expect(bad.body).toEqual({
        error: 'validation_failed',
        message: 'Invalid policy number',
        details: [{ field: 'number', message: expect.any(String) }],
      });
    });
  });

  describe('isolation between users', () => {
    it('one user can never read or change another’s policy', async () => {
      const alice = randomUUID();
      const bob = randomUUID();
      const aliceRead = await h.call<PolicyBody>('GET', '/policies/me', {
        token: await readToken(alice),
      });
      const aliceMfa = await h.issuer.userToken({ oid: alice, flow: MFA_FLOW });
      const set = await h.call<PolicyBody>('PUT', '/policies/me/beneficiaries', {
        token: aliceMfa,
        headers: { 'if-match': aliceRead.headers.get('etag') ?? '' },
        body: { beneficiaries: split(['Alice Spouse']) },
      });
      expect(set.status).toBe(200);

      // Bob, even with a fresh MFA token and Alice's ETag, only ever reaches his own policy.
      const bobMfa = await h.issuer.userToken({ oid: bob, flow: MFA_FLOW });
      const bobRead = await h.call<PolicyBody>('GET', '/policies/me', { token: bobMfa });
      expect(bobRead.body.policyNumber).not.toBe(aliceRead.body.policyNumber);
      expect(bobRead.body.beneficiaries).toEqual([]);
      const bobWrite = await h.call<PolicyBody>('PUT', '/policies/me/beneficiaries', {
        token: bobMfa,
        headers: { 'if-match': set.headers.get('etag') ?? '' },
        body: { beneficiaries: split(['Bob Child']) },
      });
      expect(bobWrite.status).toBe(412); // Alice's ETag names a version Bob's policy does not have
      const byNumber = await h.call<ErrorBody>('GET', `/policies/${aliceRead.body.policyNumber}`, {
        token: bobMfa,
      });
      expect(byNumber.status).toBe(403);
      const bobHistory = await h.call<{ items: unknown[]; policyNumber: string }>(
        'GET',
        '/policies/me/history',
        { token: bobMfa },
      );
      expect(bobHistory.body.items).toEqual([]);
      expect(bobHistory.body.policyNumber).toBe(bobRead.body.policyNumber);

      const aliceAfter = await h.call<PolicyBody>('GET', '/policies/me', {
        token: await readToken(alice),
      });
      expect(aliceAfter.body.beneficiaries).toEqual(split(['Alice Spouse']));
      expect(aliceAfter.body.version).toBe(2);
    });
  });

  describe('public and operational endpoints', () => {
    it('serves GET /public without a token', async () => {
      const r = await h.call<{ message: string; service: string }>('GET', '/public');
      expect(r.status).toBe(200);
      expect(r.body.service).toBe('policy-api');
    });

    it('answers unknown routes with the API error shape', async () => {
      const r = await h.call<ErrorBody>('GET', '/no-such-route');
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ error: 'not_found', message: expect.any(String) });
    });

    it('answers a known path under another method with 405 and Allow in the API shape (was a 404)', async () => {
      const cases: [string, string, string][] = [
        ['DELETE', '/policies/me', 'GET, HEAD'],
        ['POST', '/policies/me', 'GET, HEAD'],
        ['OPTIONS', '/policies/me/history', 'GET, HEAD'],
        ['GET', '/policies/me/beneficiaries', 'PUT'],
        ['PATCH', '/policies/me/beneficiaries', 'PUT'],
        ['PUT', '/public', 'GET, HEAD'],
        ['DELETE', '/policies/PN0000000001', 'GET, HEAD'],
        // QUERY carries a body: without a Content-Type the body parser refused it first (400).
        ['QUERY', '/policies/me', 'GET, HEAD'],
        ['QUERY', '/healthz', 'GET, HEAD'],
      ];
      for (const [method, path, allow] of cases) {
        const r = await h.call<ErrorBody>(method, path);
        expect({ method, path, status: r.status, allow: r.headers.get('allow') }).toEqual({
          method,
          path,
          status: 405,
          allow,
        });
        expect(r.body).toEqual({ error: 'method_not_allowed', message: expect.any(String) });
      }
      expect((await h.call('DELETE', '/no-such-route')).status).toBe(404);
      // The method is wrong whatever the body: not 400 for malformed JSON, not 415.
      for (const [contentType, body] of [
        ['application/json', '{"not json'],
        ['text/plain', 'hello'],
      ]) {
        const r = await callJson<ErrorBody>('POST', `${h.url}/policies/me`, { contentType, body });
        expect([r.status, r.headers.get('allow'), r.body.error]).toEqual([
          405,
          'GET, HEAD',
          'method_not_allowed',
        ]);
      }
    });

    it('serves health and readiness', async () => {
      expect((await h.call('GET', '/healthz')).status).toBe(200);
      const ready = await h.call<{ status: string }>('GET', '/readyz');
      expect(ready.status).toBe(200);
      expect(ready.body.status).toBe('ok');
    });

    it('serves the OpenAPI document with every route, the DTO schemas and bearer auth', async () => {
      const r = await h.call<{
        openapi: string;
        paths: Record<string, Record<string, unknown>>;
        components: {
          schemas: Record<string, { properties: Record<string, unknown> }>;
          securitySchemes: object;
        };
      }>('GET', '/openapi.json');
      expect(r.status).toBe(200);
      expect(r.body.openapi).toMatch(/^3\./);
      expect(Object.keys(r.body.paths)).toEqual(
        expect.arrayContaining([
          '/public',
          '/policies/me',
          '/policies/{number}',
          '/policies/me/beneficiaries',
          '/policies/me/history',
        ]),
      );
      expect(Object.keys(r.body.paths['/policies/me/beneficiaries'] ?? {})).toEqual(['put']);
      expect(r.body.components.schemas.BeneficiaryDto?.properties).toEqual(
        expect.objectContaining({
          name: expect.objectContaining({ maxLength: 200 }),
          relationship: expect.objectContaining({
            enum: expect.arrayContaining(['spouse', 'child']),
          }),
          sharePercent: expect.objectContaining({ minimum: 1, maximum: 100 }),
        }),
      );
      expect(r.body.components.securitySchemes).toHaveProperty('bearer');
    });
  });

  describe('when the identity provider cannot be reached', () => {
    let down: Harness;
    beforeAll(async () => {
      // Metadata on a port nobody listens on: signing keys can never be loaded.
      down = await Harness.start({
        B2C_IDENTITY_METADATA:
          'http://127.0.0.1:9/contoso.onmicrosoft.com/b2c_1_signupsignin/v2.0/.well-known/openid-configuration',
        APP_IDENTITY_METADATA: '',
      });
    }, 60000);
    afterAll(async () => {
      await down?.stop();
    });

    it('answers 503 temporarily_unavailable, not 500, and still serves public routes', async () => {
      const r = await down.call<ErrorBody>('GET', '/policies/me', {
        token: await down.issuer.userToken({ oid: randomUUID() }),
      });
      expect(r.status).toBe(503);
      expect(r.body.error).toBe('temporarily_unavailable');
      expect((await down.call('GET', '/public')).status).toBe(200);
    });
  });
});
