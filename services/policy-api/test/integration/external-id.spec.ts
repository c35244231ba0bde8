// B2C and External ID trusted at once (migration window): External ID users get policies of
// their own, keyed by provider + tenant + oid, and change beneficiaries only after step-up by
// authentication context (acrs) with a fresh auth_time; every bypass is refused with the claims
// challenge or 401 and stores nothing.
import { randomUUID } from 'node:crypto';
import { AUTH_CONTEXT, type ExternalIdTenant } from '../support/external-id';
import {
  challengeParams,
  split,
  type ErrorBody,
  type HistoryBody,
  type PolicyBody,
} from '../support/fixtures';
import { Harness } from '../support/harness';
import { storedState } from '../support/holder';
import { MFA_FLOW, PORTAL_CLIENT_ID } from '../support/tokens';

const now = () => Math.floor(Date.now() / 1000);
const CLAIMS_REQUEST = { access_token: { acrs: { essential: true, value: AUTH_CONTEXT } } };

describe('policy-api trusting B2C and External ID side by side', () => {
  let h: Harness;
  let ext: ExternalIdTenant;
  beforeAll(async () => {
    h = await Harness.start({}, { externalId: true });
    ext = h.externalId as ExternalIdTenant;
  }, 60000);
  afterAll(async () => {
    await h?.stop();
  });

  const me = (token: string) => h.call<PolicyBody & ErrorBody>('GET', '/policies/me', { token });
  const put = (token: string, etag: string, names: string[]) =>
    h.call<PolicyBody & ErrorBody>('PUT', '/policies/me/beneficiaries', {
      token,
      headers: { 'if-match': etag },
      body: { beneficiaries: split(names) },
    });

  /** An External ID user with a policy (first read) and its ETag. */
  async function externalHolder(): Promise<{ oid: string; etag: string; policy: PolicyBody }> {
    const oid = randomUUID();
    const r = await me(await ext.userToken({ oid }));
    expect(r.status).toBe(201);
    return { oid, etag: r.headers.get('etag') ?? '', policy: r.body };
  }

  it('gives an External ID user a policy of their own, created on first read, and B2C users keep working', async () => {
    const { oid, policy } = await externalHolder();
    expect(policy).toEqual(
      expect.objectContaining({ holderOid: oid, version: 1, beneficiaries: [] }),
    );
    const again = await me(await ext.userToken({ oid }));
    expect([again.status, again.body.policyNumber]).toEqual([200, policy.policyNumber]);

    const b2c = await me(await h.issuer.userToken({ oid: randomUUID() }));
    expect(b2c.status).toBe(201);
    expect(b2c.body.policyNumber).not.toBe(policy.policyNumber);
  });

  it('keys policies by provider + tenant + oid: the same oid on B2C and External ID are two customers', async () => {
    const oid = randomUUID();
    const viaB2c = await me(await h.issuer.userToken({ oid }));
    const viaExt = await me(await ext.userToken({ oid }));
    expect([viaB2c.status, viaExt.status]).toEqual([201, 201]);
    expect(viaExt.body.policyNumber).not.toBe(viaB2c.body.policyNumber);
  });

  it('accepts a change with acrs naming the authentication context and a fresh auth_time, audited as acrs:c1', async () => {
    const { oid, etag, policy } = await externalHolder();
    const authTime = now() - 30;
    const r = await put(await ext.stepUpToken({ oid, authTime }), etag, ['Ann Example']);
    expect(r.status).toBe(200);
    expect(r.body).toEqual(
      expect.objectContaining({
        holderOid: oid,
        version: 2,
        beneficiaries: split(['Ann Example']),
      }),
    );
    const history = await h.call<HistoryBody>('GET', '/policies/me/history', {
      token: await ext.userToken({ oid }),
    });
    expect(history.body).toEqual({
      policyNumber: policy.policyNumber,
      items: [
        expect.objectContaining({
          version: 2,
          changedBy: oid,
          changedByProvider: 'external-id',
          clientId: PORTAL_CLIENT_ID,
          userFlow: `acrs:${AUTH_CONTEXT}`,
          authTime: new Date(authTime * 1000).toISOString(),
        }),
      ],
    });
    const events = await h.db.query(
      "SELECT payload FROM outbox WHERE payload->>'policyNumber' = $1",
      [policy.policyNumber],
    );
    expect(events.rows.map((e) => e.payload)).toEqual([
      expect.objectContaining({ holderOid: oid, userFlow: `acrs:${AUTH_CONTEXT}`, authTime }),
    ]);
  });

  it('still accepts app-only tokens (Entra provider) and refuses them on user routes', async () => {
    const { policy } = await externalHolder();
    const app = await h.issuer.appToken({ roles: ['Policies.Read.All'] });
    const byNumber = await h.call<PolicyBody>('GET', `/policies/${policy.policyNumber}`, {
      token: app,
    });
    expect([byNumber.status, byNumber.body.holderOid]).toEqual([200, policy.holderOid]);
    expect((await me(app)).status).toBe(403);
  });

  describe('step-up bypass attempts on External ID tokens (nothing saved, history unchanged)', () => {
    const expectClaimsChallenge = (r: { status: number; headers: Headers; body: ErrorBody }) => {
      expect(r.status).toBe(401);
      expect(r.body.error).toBe('insufficient_user_authentication');
      // Two challenges: Microsoft's claims challenge first, then RFC 9470 (fetch joins the fields).
      const header = r.headers.get('www-authenticate') ?? '';
      const [microsoft, rfc9470] = header.split(/,\s*(?=Bearer )/);
      const c = challengeParams(microsoft ?? '');
      expect(c).toEqual(
        expect.objectContaining({
          realm: ext.tenantId,
          error: 'insufficient_claims',
          authorization_uri: ext.idp.ciamAuthorizeUrl(),
        }),
      );
      expect(JSON.parse(Buffer.from(c.claims ?? '', 'base64').toString())).toEqual(CLAIMS_REQUEST);
      expect(challengeParams(rfc9470 ?? '')).toEqual(
        expect.objectContaining({
          error: 'insufficient_user_authentication',
          acr_values: AUTH_CONTEXT,
          max_age: '600',
        }),
      );
    };

    it.each([
      ['no acrs', {}],
      ['another authentication context', { acrs: ['c2'] }],
      ['acrs as a string of other contexts', { extra: { acrs: 'c2 c3' } }],
      ['a stale auth_time', { acrs: [AUTH_CONTEXT], authTime: now() - 601 }],
      ['no auth_time', { acrs: [AUTH_CONTEXT], extra: { auth_time: undefined } }],
    ])('%s: 401 with the claims challenge', async (_what, o) => {
      const { oid, etag } = await externalHolder();
      const before = await storedState(h, oid);
      expectClaimsChallenge(await put(await ext.userToken({ oid, ...o }), etag, ['Mallory']));
      expect(await storedState(h, oid)).toEqual(before);
      expect(before).toEqual(expect.objectContaining({ version: 1, history: 0, outbox: 0 }));
    });

    it.each<[string, string[] | undefined, Record<string, unknown>]>([
      ['no xms_cc', [], {}],
      ['xms_cc without cp1', ['cp2'], {}],
      ['xms_cc naming cp1 inside another value', undefined, { xms_cc: ['xcp1', 'cp10'] }],
    ])(
      'a client with %s: 401 with the RFC 9470 challenge alone (no claims challenge)',
      async (_what, clientCapabilities, extra) => {
        const { oid, etag } = await externalHolder();
        const r = await put(await ext.userToken({ oid, clientCapabilities, extra }), etag, [
          'Mallory',
        ]);
        expect([r.status, r.body.error]).toEqual([401, 'insufficient_user_authentication']);
        expect(r.headers.get('www-authenticate')).toBe(
          `Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="${AUTH_CONTEXT}", max_age=600`,
        );
        expect(await storedState(h, oid)).toEqual(
          expect.objectContaining({ version: 1, history: 0, outbox: 0 }),
        );
      },
    );

    it.each([
      [
        'a token of another External ID tenant',
        (oid: string) => ext.stepUpToken({ oid, tenantId: ext.idp.otherCiamTenantId }),
      ],
      [
        'our issuer with another tenant in tid',
        (oid: string) =>
          ext.stepUpToken({ oid, tenantId: ext.idp.otherCiamTenantId, issuerTenant: ext.tenantId }),
      ],
      [
        'another audience',
        (oid: string) => ext.stepUpToken({ oid, audience: 'api://someone-else' }),
      ],
      [
        'a B2C-signed token naming the External ID issuer',
        (oid: string) => h.issuer.sign(ext.claims({ oid, acrs: [AUTH_CONTEXT] })),
      ],
      [
        'an External ID-signed token naming the B2C issuer and MFA flow',
        (oid: string) =>
          ext.userToken({
            oid,
            acrs: [AUTH_CONTEXT],
            extra: { iss: h.issuer.issuer, tfp: MFA_FLOW },
          }),
      ],
    ])('%s: 401 invalid_token', async (_what, token) => {
      const { oid, etag } = await externalHolder();
      const r = await put(await token(oid), etag, ['Mallory']);
      expect(r.status).toBe(401);
      expect(r.body.error).toBe('invalid_token');
      expect(challengeParams(r.headers.get('www-authenticate')).error).toBe('invalid_token');
      expect(await storedState(h, oid)).toEqual(
        expect.objectContaining({ version: 1, history: 0, outbox: 0 }),
      );
    });

    it('a B2C token keeps the B2C challenge (MFA user flow), not the claims challenge', async () => {
      const oid = randomUUID();
      const read = await me(await h.issuer.userToken({ oid }));
      const r = await put(await h.issuer.userToken({ oid }), read.headers.get('etag') ?? '', [
        'Mallory',
      ]);
      expect(r.status).toBe(401);
      const header = r.headers.get('www-authenticate') ?? '';
      expect(header).not.toContain('insufficient_claims');
      expect(challengeParams(header).acr_values).toBe(MFA_FLOW.toLowerCase());
      expect(await storedState(h, oid)).toEqual(
        expect.objectContaining({ version: 1, history: 0 }),
      );
    });
  });
});

describe('policy-api trusting External ID only', () => {
  let h: Harness;
  beforeAll(async () => {
    // The local B2C issuer also serves the app-token tenant (same issuer and key): trust neither.
    h = await Harness.start(
      { B2C_IDENTITY_METADATA: '', APP_IDENTITY_METADATA: '' },
      { externalId: true },
    );
  }, 60000);
  afterAll(async () => {
    await h?.stop();
  });

  it('serves External ID users and refuses B2C tokens', async () => {
    const ext = h.externalId as ExternalIdTenant;
    const oid = randomUUID();
    const read = await h.call<PolicyBody>('GET', '/policies/me', {
      token: await ext.userToken({ oid }),
    });
    expect(read.status).toBe(201);
    const put = await h.call<PolicyBody>('PUT', '/policies/me/beneficiaries', {
      token: await ext.stepUpToken({ oid }),
      headers: { 'if-match': read.headers.get('etag') ?? '' },
      body: { beneficiaries: split(['Ann Example']) },
    });
    expect(put.status).toBe(200);
    const b2c = await h.call<ErrorBody>('GET', '/policies/me', {
      token: await h.issuer.userToken({ oid: randomUUID(), flow: MFA_FLOW }),
    });
    expect([b2c.status, b2c.body.error]).toEqual([401, 'invalid_token']);
  });
});
