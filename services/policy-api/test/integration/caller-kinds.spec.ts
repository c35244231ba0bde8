// An attacker's view of who may call what: tokens that claim to be both an app and a user,
// delegated tokens carrying app roles, app tokens on user routes, scopes with odd separators or
// case, v1 tokens; and the safe methods (HEAD creates nothing, OPTIONS is 405 on every route).
import { randomUUID } from 'node:crypto';
import type { ExternalIdTenant } from '../support/external-id';
import { challengeParams, type ErrorBody, type PolicyBody } from '../support/fixtures';
import { Harness } from '../support/harness';
import { API_CLIENT_ID, PORTAL_CLIENT_ID, SIGN_IN_FLOW } from '../support/tokens';

const now = () => Math.floor(Date.now() / 1000);
const ROLE = 'Policies.Read.All';

describe('caller kinds: apps, users and the tenant they come from', () => {
  let h: Harness;
  let ext: ExternalIdTenant;
  let policyNumber: string;

  beforeAll(async () => {
    h = await Harness.start({}, { externalId: true });
    ext = h.externalId as ExternalIdTenant;
    const first = await h.call<PolicyBody>('GET', '/policies/me', {
      token: await h.issuer.userToken({ oid: randomUUID() }),
    });
    policyNumber = first.body.policyNumber;
  }, 60000);
  afterAll(async () => {
    await h?.stop();
  });

  const times = () => ({ exp: now() + 3600, nbf: now() - 10, iat: now() });
  const count = async (table: string) =>
    Number((await h.db.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
  const byNumber = (token: string) =>
    h.call<PolicyBody & ErrorBody>('GET', `/policies/${policyNumber}`, { token });

  it('reads a policy by number with the daemon’s app-only token', async () => {
    const r = await byNumber(await h.issuer.appToken({ roles: [ROLE] }));
    expect([r.status, r.body.policyNumber]).toEqual([200, policyNumber]);
  });

  it('refuses a token that says idtyp=app and carries scp (neither an app nor a user): 401 everywhere', async () => {
    const oid = randomUUID();
    const token = await h.issuer.sign({
      iss: h.issuer.issuer,
      aud: API_CLIENT_ID,
      ...times(),
      ver: '1.0',
      tfp: SIGN_IN_FLOW,
      idtyp: 'app',
      scp: 'Accounts.Read Accounts.Write',
      roles: [ROLE],
      oid,
      sub: oid,
      azp: PORTAL_CLIENT_ID,
    });
    for (const r of [
      await byNumber(token),
      await h.call<ErrorBody>('GET', '/policies/me', { token }),
    ]) {
      expect([r.status, r.body.error]).toEqual([401, 'invalid_token']);
      expect(challengeParams(r.headers.get('www-authenticate')).error).toBe('invalid_token');
    }
  });

  it('never lets a delegated token act as an app: app roles in a user token are ignored (403)', async () => {
    const oid = randomUUID();
    const token = await h.issuer.sign({
      iss: h.issuer.issuer,
      aud: API_CLIENT_ID,
      ...times(),
      ver: '1.0',
      tfp: SIGN_IN_FLOW,
      scp: 'Accounts.Read',
      roles: [ROLE],
      oid,
      sub: oid,
      azp: PORTAL_CLIENT_ID,
    });
    expect((await byNumber(token)).status).toBe(403);
    expect((await byNumber(await ext.userToken({ oid, extra: { roles: [ROLE] } }))).status).toBe(
      403,
    );
  });

  it('never lets an app-only token reach a /policies/me route, and creates nothing for it', async () => {
    const before = await count('policies');
    const app = await h.issuer.appToken({ roles: [ROLE] });
    // Scopes in an app token (never issued so) do not help either: it is refused as invalid.
    for (const r of [
      await h.call<ErrorBody>('GET', '/policies/me', { token: app }),
      await h.call<ErrorBody>('HEAD', '/policies/me', { token: app }),
      await h.call<ErrorBody>('GET', '/policies/me/history', { token: app }),
      await h.call<ErrorBody>('PUT', '/policies/me/beneficiaries', {
        token: app,
        headers: { 'if-match': '"v1"' },
        body: { beneficiaries: [{ name: 'A', relationship: 'spouse', sharePercent: 100 }] },
      }),
    ])
      expect(r.status).toBe(403);
    expect(await count('policies')).toBe(before);
  });

  it('takes scp as Entra writes it: space-separated, case-sensitive; other separators or case are no scope', async () => {
    const withScp = (scp: unknown) => {
      const oid = randomUUID();
      return h.issuer.sign({
        iss: h.issuer.issuer,
        aud: API_CLIENT_ID,
        ...times(),
        ver: '1.0',
        tfp: SIGN_IN_FLOW,
        scp,
        oid,
        sub: oid,
        azp: PORTAL_CLIENT_ID,
      });
    };
    for (const scp of [
      'accounts.read',
      'ACCOUNTS.READ',
      'Accounts.Read,Accounts.Write',
      'Accounts.Read;Accounts.Write',
      'Accounts.Read\tAccounts.Write',
      'Accounts.Read\u00a0Accounts.Write',
      'Accounts.Read\u200b',
      ['Accounts.Read'],
      { 0: 'Accounts.Read' },
      '',
    ]) {
      const r = await h.call<ErrorBody>('GET', '/policies/me', { token: await withScp(scp) });
      expect({ scp, status: r.status, error: r.body.error }).toEqual({
        scp,
        status: 403,
        error: 'insufficient_scope',
      });
    }
    for (const scp of ['Accounts.Read Accounts.Read', '  Accounts.Read  ', 'Other Accounts.Read']) {
      const r = await h.call('GET', '/policies/me', { token: await withScp(scp) });
      expect({ scp, status: r.status }).toEqual({ scp, status: 201 });
    }
  });

  it('refuses a v1 app-only token (sts.windows.net issuer) when the daemon tenant is trusted through v2 metadata: 401', async () => {
    const token = await h.issuer.shared.sign('entra', {
      iss: `https://sts.windows.net/${h.issuer.shared.tenantId}/`,
      aud: 'api://policy-api',
      tid: h.issuer.shared.tenantId,
      ...times(),
      ver: '1.0',
      appid: randomUUID(),
      roles: [ROLE],
      sub: randomUUID(),
    });
    const r = await byNumber(token);
    expect([r.status, r.body.error]).toEqual([401, 'invalid_token']);
  });
});

describe('safe and unknown methods on every route', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start();
  }, 60000);
  afterAll(async () => {
    await h?.stop();
  });

  it('HEAD /policies/me never creates the policy (404 until GET does), then answers GET’s headers without a body', async () => {
    const oid = randomUUID();
    const token = await h.issuer.userToken({ oid });
    const held = async () =>
      Number(
        (await h.db.query('SELECT count(*) AS n FROM policy_identities WHERE oid = $1', [oid]))
          .rows[0].n,
      );
    const head = await h.call('HEAD', '/policies/me', { token });
    expect(head.status).toBe(404);
    expect(await held()).toBe(0);
    const get = await h.call<PolicyBody>('GET', '/policies/me', { token });
    expect(get.status).toBe(201);
    const again = await h.call('HEAD', '/policies/me', { token });
    expect(again.status).toBe(200);
    expect(again.headers.get('etag')).toBe(get.headers.get('etag'));
    expect(again.headers.get('cache-control')).toBe('no-store');
    expect(again.body).toBeUndefined();
    expect(await held()).toBe(1);
    // The history never creates a policy either, whichever method.
    const other = await h.issuer.userToken({ oid: randomUUID() });
    expect((await h.call('HEAD', '/policies/me/history', { token: other })).status).toBe(200);
    expect((await h.call('HEAD', '/policies/me', { token: other })).status).toBe(404);
  });

  it('HEAD and OPTIONS on every route: HEAD where GET is served, 405 with Allow otherwise, never a 5xx', async () => {
    const app = await h.issuer.appToken({ roles: [ROLE] });
    const user = await h.issuer.userToken({ oid: randomUUID() });
    const number = (await h.call<PolicyBody>('GET', '/policies/me', { token: user })).body
      .policyNumber;
    const routes: [string, string, string, number][] = [
      // path, token, Allow, HEAD status
      ['/policies/me', user, 'GET, HEAD', 200],
      ['/policies/me/history', user, 'GET, HEAD', 200],
      ['/policies/me/beneficiaries', user, 'PUT', 405],
      [`/policies/${number}`, app, 'GET, HEAD', 200],
      ['/public', '', 'GET, HEAD', 200],
      ['/healthz', '', 'GET, HEAD', 200],
      ['/readyz', '', 'GET, HEAD', 200],
      ['/metrics', '', 'GET, HEAD', 200],
      ['/openapi.json', '', 'GET, HEAD', 200],
    ];
    for (const [path, token, allow, headStatus] of routes) {
      const o = token ? { token } : {};
      const head = await h.call('HEAD', path, o);
      expect({ path, status: head.status, body: head.body }).toEqual({
        path,
        status: headStatus,
        body: undefined,
      });
      if (headStatus === 405) expect(head.headers.get('allow')).toBe(allow);
      const options = await h.call<ErrorBody>('OPTIONS', path, o);
      expect({ path, status: options.status, allow: options.headers.get('allow') }).toEqual({
        path,
        status: 405,
        allow,
      });
      expect(options.body).toEqual({ error: 'method_not_allowed', message: expect.any(String) });
    }
    for (const method of ['HEAD', 'OPTIONS'])
      expect((await h.call(method, '/no-such-route')).status).toBe(404);
  });
});
