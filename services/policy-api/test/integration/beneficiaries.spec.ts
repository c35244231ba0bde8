import { randomUUID } from 'node:crypto';
import { Harness } from '../support/harness';
import {
  challengeParams,
  split,
  type ErrorBody,
  type HistoryBody,
  type PolicyBody,
} from '../support/fixtures';
import { MFA_FLOW, PORTAL_CLIENT_ID, SIGN_IN_FLOW } from '../support/tokens';

const now = () => Math.floor(Date.now() / 1000);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('PUT /policies/me/beneficiaries', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start();
  }, 60000);
  afterAll(async () => {
    await h?.stop();
  });

  /** A new user with a policy; returns their oid and the ETag of that first read. */
  async function newHolder(): Promise<{ oid: string; etag: string; policy: PolicyBody }> {
    const oid = randomUUID();
    const r = await h.call<PolicyBody>('GET', '/policies/me', {
      token: await h.issuer.userToken({ oid }),
    });
    return { oid, etag: r.headers.get('etag') ?? '', policy: r.body };
  }
  const put = async (
    token: string,
    etag: string | undefined,
    body: unknown,
    headers: Record<string, string> = {},
  ) =>
    h.call<PolicyBody & ErrorBody>('PUT', '/policies/me/beneficiaries', {
      token,
      body,
      headers: { ...(etag !== undefined ? { 'if-match': etag } : {}), ...headers },
    });
  const mfa = (
    oid: string,
    extra: { authTime?: number; scopes?: string[]; flowClaim?: 'tfp' | 'acr'; flow?: string } = {},
  ) => h.issuer.userToken({ oid, flow: MFA_FLOW, ...extra });

  describe('step-up (RFC 9470)', () => {
    it('refuses a sign-in (non-MFA) token that carries Accounts.Write: 401 naming the MFA flow and max_age', async () => {
      const { oid, etag } = await newHolder();
      const token = await h.issuer.userToken({
        oid,
        flow: SIGN_IN_FLOW,
        scopes: ['Accounts.Read', 'Accounts.Write'],
      });
      const r = await put(token, etag, { beneficiaries: split(['Someone']) });
      expect(r.status).toBe(401);
      expect(r.body.error).toBe('insufficient_user_authentication');
      const c = challengeParams(r.headers.get('www-authenticate'));
      expect(c.error).toBe('insufficient_user_authentication');
      expect(c.acr_values?.toLowerCase()).toBe(MFA_FLOW.toLowerCase());
      expect(c.max_age).toBe('600');
      const after = await h.call<PolicyBody>('GET', '/policies/me', { token });
      expect(after.body.version).toBe(1);
      expect(after.body.beneficiaries).toEqual([]);
    });

    it('refuses an MFA token whose auth_time is older than the max age', async () => {
      const { oid, etag } = await newHolder();
      const r = await put(await mfa(oid, { authTime: now() - 601 }), etag, {
        beneficiaries: split(['Someone']),
      });
      expect(r.status).toBe(401);
      expect(challengeParams(r.headers.get('www-authenticate'))).toEqual(
        expect.objectContaining({ error: 'insufficient_user_authentication', max_age: '600' }),
      );
    });

    it('accepts the MFA flow in acr as well as tfp, compared case-insensitively', async () => {
      const { oid, etag } = await newHolder();
      const r = await put(
        await mfa(oid, { flowClaim: 'acr', flow: MFA_FLOW.toUpperCase() }),
        etag,
        { beneficiaries: split(['Someone']) },
      );
      expect(r.status).toBe(200);
    });

    it('still needs the Accounts.Write scope (403) even with a fresh MFA token', async () => {
      const { oid, etag } = await newHolder();
      const r = await put(await mfa(oid, { scopes: ['Accounts.Read'] }), etag, {
        beneficiaries: split(['Someone']),
      });
      expect(r.status).toBe(403);
      expect(challengeParams(r.headers.get('www-authenticate')).scope).toBe('Accounts.Write');
    });

    it('reports a malformed request before step-up, and nothing that reads the policy', async () => {
      const { oid, etag } = await newHolder();
      const signIn = await h.issuer.userToken({ oid, flow: SIGN_IN_FLOW });
      const good = { beneficiaries: split(['Someone']) };

      // The right scope without step-up: the request's own faults first (no challenge).
      const badBody = await put(signIn, etag, { beneficiaries: [] });
      expect(badBody.status).toBe(400);
      expect(badBody.body.error).toBe('validation_failed');
      expect(badBody.headers.get('www-authenticate')).toBeNull();
      const badIfMatch = await put(signIn, 'v1', good);
      expect(badIfMatch.status).toBe(400);
      expect(badIfMatch.body.details).toEqual([expect.objectContaining({ field: 'If-Match' })]);
      const noIfMatch = await put(signIn, undefined, good);
      expect(noIfMatch.status).toBe(428);

      // A well-formed request: step-up, also for a stale ETag (412 would tell the version).
      for (const ifMatch of [etag, '"v999"']) {
        const r = await put(signIn, ifMatch, good);
        expect(r.status).toBe(401);
        expect(challengeParams(r.headers.get('www-authenticate')).error).toBe(
          'insufficient_user_authentication',
        );
      }

      // Without the scope, or without a token, a malformed body still gets the auth answer.
      const readOnly = await mfa(oid, { scopes: ['Accounts.Read'] });
      expect((await put(readOnly, etag, { beneficiaries: [] })).status).toBe(403);
      const anonymous = await h.call<ErrorBody>('PUT', '/policies/me/beneficiaries', {
        body: { beneficiaries: [] },
        headers: { 'if-match': etag },
      });
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error).toBe('unauthorized');

      const after = await h.call<PolicyBody>('GET', '/policies/me', { token: signIn });
      expect(after.body.version).toBe(1);
    });

    it('refuses app-only tokens', async () => {
      const r = await put(await h.issuer.appToken({ roles: ['Policies.Read.All'] }), '"v1"', {
        beneficiaries: split(['Someone']),
      });
      expect(r.status).toBe(403);
    });

    it('answers callers that can never change a policy 403 whatever the request: no 400, 428, 412 or step-up first', async () => {
      const { etag } = await newHolder();
      const good = { beneficiaries: split(['Someone']) };
      const callers = [
        ['app-only, Policies.Read.All', await h.issuer.appToken({ roles: ['Policies.Read.All'] })],
        // An app role named like the delegated scope is still no scope.
        ['app-only, Accounts.Write role', await h.issuer.appToken({ roles: ['Accounts.Write'] })],
        ['workforce user with Accounts.Write', await h.issuer.workforceUserToken(randomUUID())],
      ] as const;
      for (const [who, token] of callers) {
        for (const [what, ifMatch, body] of [
          ['well-formed, current ETag', etag, good],
          ['stale ETag', '"v999"', good],
          ['no If-Match', undefined, good],
          ['malformed If-Match', 'v1', good],
          ['malformed body', etag, { beneficiaries: [] }],
        ] as const) {
          const r = await put(token, ifMatch, body);
          expect({ who, what, status: r.status, error: r.body.error }).toEqual({
            who,
            what,
            status: 403,
            error: 'insufficient_scope',
          });
        }
      }
    });
  });

  describe('optimistic concurrency', () => {
    it('428 without If-Match (or with *), 412 with a stale, weak or foreign ETag; nothing changes', async () => {
      const { oid, etag } = await newHolder();
      const token = await mfa(oid);
      const body = { beneficiaries: split(['Someone']) };
      for (const [ifMatch, status, error] of [
        [undefined, 428, 'precondition_required'],
        ['*', 428, 'precondition_required'],
        ['"v7"', 412, 'precondition_failed'],
        [`W/${etag}`, 412, 'precondition_failed'],
      ] as const) {
        const r = await put(token, ifMatch, body);
        expect(r.status).toBe(status);
        expect(r.body.error).toBe(error);
      }
      const { rows } = await h.db.query('SELECT version FROM policies WHERE holder_oid = $1', [
        oid,
      ]);
      expect(rows[0].version).toBe(1);
    });

    it('412 for a user who has no policy yet (nothing to match)', async () => {
      const r = await put(await mfa(randomUUID()), '"v1"', { beneficiaries: split(['Someone']) });
      expect(r.status).toBe(412);
    });

    it('a successful change returns the new representation and ETag; the old ETag is then stale', async () => {
      const { oid, etag, policy } = await newHolder();
      const token = await mfa(oid);
      const r = await put(token, etag, { beneficiaries: split(['Ann Example', 'Ben Example']) });
      expect(r.status).toBe(200);
      expect(r.headers.get('etag')).toBe('"v2"');
      expect(r.body).toEqual(
        expect.objectContaining({
          policyNumber: policy.policyNumber,
          version: 2,
          beneficiaries: split(['Ann Example', 'Ben Example']),
        }),
      );
      const read = await h.call<PolicyBody>('GET', '/policies/me', { token });
      expect(read.body).toEqual(r.body);
      expect(read.headers.get('etag')).toBe('"v2"');
      expect((await put(token, etag, { beneficiaries: split(['Other']) })).status).toBe(412);
      // A list of tags matches if any does.
      expect((await put(token, `"v1", "v2"`, { beneficiaries: split(['Other']) })).status).toBe(
        200,
      );
    });
  });

  describe('audit history', () => {
    it('records who, when, before, after, the user flow and auth_time, and the request id of every change', async () => {
      const { oid, etag } = await newHolder();
      const authTime = now() - 30;
      const token = await mfa(oid, { authTime });
      const first = await put(
        token,
        etag,
        { beneficiaries: split(['Ann Example']) },
        { 'x-request-id': 'req-history-1' },
      );
      const second = await put(
        token,
        first.headers.get('etag') ?? '',
        { beneficiaries: split(['Ann Example', 'Ben Example']) },
        { 'x-request-id': 'req-history-2' },
      );
      expect(second.status).toBe(200);
      // An identical list is not a change: no new version, no history entry.
      const same = await put(token, second.headers.get('etag') ?? '', {
        beneficiaries: split(['Ann Example', 'Ben Example']),
      });
      expect(same.status).toBe(200);
      expect(same.body.version).toBe(3);

      const r = await h.call<HistoryBody>('GET', '/policies/me/history', {
        token: await h.issuer.userToken({ oid, scopes: ['Accounts.Read'] }),
      });
      expect(r.status).toBe(200);
      expect(r.body.items).toEqual([
        {
          version: 3,
          changedAt: second.body.updatedAt,
          changedBy: oid,
          changedByProvider: 'b2c',
          clientId: PORTAL_CLIENT_ID,
          userFlow: MFA_FLOW.toLowerCase(),
          authTime: new Date(authTime * 1000).toISOString(),
          requestId: expect.stringMatching(UUID),
          before: split(['Ann Example']),
          after: split(['Ann Example', 'Ben Example']),
        },
        expect.objectContaining({
          version: 2,
          requestId: expect.stringMatching(UUID),
          before: [],
          after: split(['Ann Example']),
        }),
      ]);
      expect(new Set(r.body.items.map((i) => i.requestId)).size).toBe(2);
      const page = await h.call<HistoryBody>('GET', '/policies/me/history?limit=1', { token });
      expect(page.body.items.map((i) => i.version)).toEqual([3]);
      expect(page.body.nextBeforeVersion).toBe(3);
      const next = await h.call<HistoryBody>(
        'GET',
        '/policies/me/history?limit=1&beforeVersion=3',
        { token },
      );
      expect(next.body.items.map((i) => i.version)).toEqual([2]);
      expect(next.body.nextBeforeVersion).toBeUndefined();
    });

    it.each([
      ['a well-formed token', 'req-history-1'],
      ['a UUID of the caller’s choosing', '6f1c0a6e-8d3b-4c3e-9f0a-2b7d5e4c1a90'],
      ['HTML', '<img src=x onerror=alert(1)>'],
      ['a long string', 'r'.repeat(8000)],
      ['newline-like characters (NEL, tab)', 'req\u0085forged\tentry'],
      ['a log-injection attempt', 'req-1 level=error msg="forged"'],
    ])(
      'stores a server-generated request id, never the caller’s x-request-id (%s)',
      async (_what, header) => {
        const { oid, etag } = await newHolder();
        const token = await mfa(oid);
        const r = await put(
          token,
          etag,
          { beneficiaries: split(['Ann Example']) },
          { 'x-request-id': header },
        );
        expect(r.status).toBe(200);
        const history = await h.call<HistoryBody>('GET', '/policies/me/history', { token });
        const [entry] = history.body.items;
        expect(entry?.requestId).toMatch(UUID);
        expect(entry?.requestId).not.toBe(header);
        expect(JSON.stringify(history.body)).not.toContain(header.slice(0, 12));
        // The event carries the request's correlation id (echoed as x-request-id), not the audit id.
        const events = await h.db.query(
          "SELECT payload->>'requestId' AS id FROM outbox WHERE payload->>'holderOid' = $1",
          [oid],
        );
        expect(events.rows).toEqual([{ id: r.headers.get('x-request-id') }]);
      },
    );

    it('validates paging parameters and needs Accounts.Read', async () => {
      const oid = randomUUID();
      const bad = await h.call<ErrorBody>('GET', '/policies/me/history?limit=0', {
        token: await h.issuer.userToken({ oid }),
      });
      expect(bad.status).toBe(400);
      expect(bad.body.details).toEqual([{ field: 'limit', message: expect.any(String) }]);
      for (const [query, field, message] of [
        ['beforeVersion=2147483648', 'beforeVersion', 'beforeVersion must be at most 2147483647'],
        ['beforeVersion=1e20', 'beforeVersion', 'beforeVersion must be an integer'],
        ['limit=0x10', 'limit', 'limit must be an integer'],
        ['limit=%205', 'limit', 'limit must be an integer'],
        ['limit=1&limit=2', 'limit', 'limit must be an integer'],
      ]) {
        const r = await h.call<ErrorBody>('GET', `/policies/me/history?${query}`, {
          token: await h.issuer.userToken({ oid }),
        });
        expect([query, r.status, r.body.details]).toEqual([query, 400, [{ field, message }]]);
      }
      const noScope = await h.call('GET', '/policies/me/history', {
        token: await h.issuer.userToken({ oid, scopes: ['Accounts.Write'] }),
      });
      expect(noScope.status).toBe(403);
      // Reading history must not create a policy.
      const { rows } = await h.db.query(
        'SELECT count(*)::int AS n FROM policies WHERE holder_oid = $1',
        [oid],
      );
      expect(rows[0].n).toBe(0);
    });
  });

  describe('validation (400, never 500)', () => {
    let oid: string;
    let etag: string;
    let token: string;
    beforeAll(async () => {
      ({ oid, etag } = await newHolder());
      token = await mfa(oid);
    });
    const b = (over: Record<string, unknown> = {}) => ({
      name: 'Ann Example',
      relationship: 'spouse',
      sharePercent: 100,
      ...over,
    });

    it.each([
      [
        'shares that do not add up to 100',
        { beneficiaries: [b({ sharePercent: 60 }), b({ name: 'Ben', sharePercent: 30 })] },
        'beneficiaries',
      ],
      ['an empty list', { beneficiaries: [] }, 'beneficiaries'],
      ['a missing list', {}, 'beneficiaries'],
      ['a list that is not an array', { beneficiaries: 'Ann' }, 'beneficiaries'],
      [
        'more than 20 beneficiaries',
        {
          beneficiaries: Array.from({ length: 21 }, (_, i) =>
            b({ name: `B${i}`, sharePercent: i < 20 ? 5 : 0 }),
          ),
        },
        'beneficiaries',
      ],
      ['an empty name', { beneficiaries: [b({ name: '' })] }, 'beneficiaries[0].name'],
      ['a blank name', { beneficiaries: [b({ name: '   ' })] }, 'beneficiaries[0].name'],
      [
        'a name of 201 characters',
        { beneficiaries: [b({ name: 'x'.repeat(201) })] },
        'beneficiaries[0].name',
      ],
      [
        'a name with a control character',
        { beneficiaries: [b({ name: 'Ann\u0007Example' })] },
        'beneficiaries[0].name',
      ],
      ['a name with NUL', { beneficiaries: [b({ name: 'Ann\u0000' })] }, 'beneficiaries[0].name'],
      [
        'a name with a lone surrogate',
        { beneficiaries: [b({ name: 'Ann\ud800' })] },
        'beneficiaries[0].name',
      ],
      ['a non-string name', { beneficiaries: [b({ name: 42 })] }, 'beneficiaries[0].name'],
      [
        'an unknown relationship',
        { beneficiaries: [b({ relationship: 'dog' })] },
        'beneficiaries[0].relationship',
      ],
      [
        'a share of 0',
        { beneficiaries: [b({ sharePercent: 0 }), b({ name: 'Ben' })] },
        'beneficiaries[0].sharePercent',
      ],
      [
        'a share above 100',
        { beneficiaries: [b({ sharePercent: 101 })] },
        'beneficiaries[0].sharePercent',
      ],
      [
        'a fractional share',
        { beneficiaries: [b({ sharePercent: 50.5 }), b({ name: 'Ben', sharePercent: 49.5 })] },
        'beneficiaries[0].sharePercent',
      ],
      [
        'a share sent as a string',
        { beneficiaries: [b({ sharePercent: '100' })] },
        'beneficiaries[0].sharePercent',
      ],
      [
        'an unknown beneficiary field',
        { beneficiaries: [b({ email: 'ann@example.com' })] },
        'beneficiaries[0].email',
      ],
      [
        'an unknown top-level field',
        { beneficiaries: [b()], policyNumber: 'PN0000000000' },
        'policyNumber',
      ],
      ['a beneficiary that is not an object', { beneficiaries: ['Ann'] }, 'beneficiaries[0]'],
    ])('rejects %s', async (_what, body, field) => {
      const r = await put(token, etag, body);
      expect(r.status).toBe(400);
      expect(r.body.error).toBe('validation_failed');
      expect(r.body.details?.map((d) => d.field)).toContain(field);
      // Messages never echo the submitted value (names are personal data).
      expect(JSON.stringify(r.body)).not.toContain('Ann\u0007');
    });

    it.each([
      ['malformed JSON', '{"beneficiaries": [', 'application/json', 400, 'invalid_request'],
      ['a JSON array body', '[]', 'application/json', 400, 'validation_failed'],
      ['a JSON string body', '"x"', 'application/json', 400, 'validation_failed'],
      ['an XML body', '<b/>', 'application/xml', 415, 'unsupported_media_type'],
      ['a plain-text body', 'name=Ann', 'text/plain', 415, 'unsupported_media_type'],
    ])('rejects %s with a clear error', async (_what, raw, type, status, error) => {
      const r = await h.call<ErrorBody>('PUT', '/policies/me/beneficiaries', {
        token,
        body: raw,
        headers: { 'if-match': etag, 'content-type': type },
      });
      expect(r.status).toBe(status);
      expect(r.body).toEqual(expect.objectContaining({ error, message: expect.any(String) }));
    });

    it('rejects an oversized body with 413', async () => {
      const r = await put(token, etag, { beneficiaries: [b()], pad: 'x'.repeat(1_100_000) });
      expect(r.status).toBe(413);
      expect(r.body.error).toBe('payload_too_large');
    });

    it('stores names trimmed and Unicode-normalised (NFC), counting characters not UTF-16 units', async () => {
      const decomposed = '  Zoe\u0301 Example  ';
      const astral = '\u{1F600}'.repeat(200); // 200 characters, 400 UTF-16 units
      const r = await put(token, etag, {
        beneficiaries: [
          b({ name: decomposed, sharePercent: 50 }),
          b({ name: astral, relationship: 'charity', sharePercent: 50 }),
        ],
      });
      expect(r.status).toBe(200);
      expect(r.body.beneficiaries[0]?.name).toBe('Zo\u00e9 Example');
      expect(r.body.beneficiaries[1]?.name).toBe(astral);
      etag = r.headers.get('etag') ?? '';
    });

    it('no rejected request changed the policy', async () => {
      const { rows } = await h.db.query('SELECT version FROM policies WHERE holder_oid = $1', [
        oid,
      ]);
      expect(rows[0].version).toBe(2);
      const outbox = await h.db.query(
        "SELECT count(*)::int AS n FROM outbox WHERE payload->>'holderOid' = $1",
        [oid],
      );
      expect(outbox.rows[0].n).toBe(1);
    });
  });
});

describe('step-up settings come from the environment', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start({
      STEP_UP_MAX_AGE_SECONDS: '30',
      STEP_UP_USER_FLOWS: MFA_FLOW.toUpperCase(),
    });
  }, 60000);
  afterAll(async () => {
    await h?.stop();
  });

  it('uses STEP_UP_MAX_AGE_SECONDS and STEP_UP_USER_FLOWS', async () => {
    const oid = randomUUID();
    const read = await h.call('GET', '/policies/me', { token: await h.issuer.userToken({ oid }) });
    const etag = read.headers.get('etag') ?? '';
    const body = { beneficiaries: split(['Someone']) };
    const stale = await h.call('PUT', '/policies/me/beneficiaries', {
      token: await h.issuer.userToken({ oid, flow: MFA_FLOW, authTime: now() - 120 }),
      headers: { 'if-match': etag },
      body,
    });
    expect(stale.status).toBe(401);
    expect(challengeParams(stale.headers.get('www-authenticate')).max_age).toBe('30');
    const fresh = await h.call('PUT', '/policies/me/beneficiaries', {
      token: await h.issuer.userToken({ oid, flow: MFA_FLOW }),
      headers: { 'if-match': etag },
      body,
    });
    expect(fresh.status).toBe(200);
  });
});
