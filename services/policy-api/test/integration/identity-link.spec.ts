// Migration from B2C: an External ID user whose token carries the migration claim (their former
// B2C object id) is linked once to that B2C identity's policy and keeps it and its history.
// Never by email; the link is audited; a forged or duplicated legacy id takes over nothing.
import { randomUUID } from 'node:crypto';
import { LEGACY_CLAIM, type ExternalIdTenant } from '../support/external-id';
import { split, type ErrorBody, type HistoryBody, type PolicyBody } from '../support/fixtures';
import { Harness } from '../support/harness';
import { storedState } from '../support/holder';
import { MFA_FLOW, PORTAL_CLIENT_ID } from '../support/tokens';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('linking migrated B2C users on External ID', () => {
  let h: Harness;
  let ext: ExternalIdTenant;
  beforeAll(async () => {
    h = await Harness.start({}, { externalId: true });
    ext = h.externalId as ExternalIdTenant;
  }, 60000);
  afterAll(async () => {
    await h?.stop();
  });

  const me = (token: string, headers: Record<string, string> = {}) =>
    h.call<PolicyBody & ErrorBody>('GET', '/policies/me', { token, headers });
  const history = (token: string) =>
    h.call<HistoryBody & ErrorBody>('GET', '/policies/me/history', { token });
  const put = (token: string, etag: string, names: string[]) =>
    h.call<PolicyBody & ErrorBody>('PUT', '/policies/me/beneficiaries', {
      token,
      headers: { 'if-match': etag },
      body: { beneficiaries: split(names) },
    });

  /** A B2C customer with a policy that has one change in its history. */
  async function b2cCustomer(): Promise<{ oid: string; policy: PolicyBody; etag: string }> {
    const oid = randomUUID();
    const read = await me(await h.issuer.userToken({ oid, emails: ['same@example.test'] }));
    const changed = await put(
      await h.issuer.userToken({ oid, flow: MFA_FLOW }),
      read.headers.get('etag') ?? '',
      ['Ann Example'],
    );
    expect(changed.status).toBe(200);
    return { oid, policy: changed.body, etag: changed.headers.get('etag') ?? '' };
  }
  const identitiesOf = async (policyNumber: string) =>
    (
      await h.db.query(
        'SELECT i.provider, i.tenant_id, i.oid, i.linked_from FROM policy_identities i JOIN policies p ON p.id = i.policy_id WHERE p.number = $1 ORDER BY i.provider',
        [policyNumber],
      )
    ).rows;
  const auditOf = async (legacyOid: string) =>
    (
      await h.db.query(
        'SELECT outcome, provider, tenant_id, oid, legacy_oid, client_id, request_id, at FROM identity_link_audit WHERE legacy_oid = $1 ORDER BY at, outcome',
        [legacyOid],
      )
    ).rows;
  const heldBy = async (oid: string) =>
    (await h.db.query('SELECT count(*)::int AS n FROM policy_identities WHERE oid = $1', [oid]))
      .rows[0].n as number;

  it('a migrated user sees their B2C policy and its history, changes it with External ID step-up, and the link is audited', async () => {
    const b2c = await b2cCustomer();
    const newOid = randomUUID();
    const read = await me(await ext.userToken({ oid: newOid, legacyOid: b2c.oid }), {
      'x-request-id': 'caller-chosen-id',
    });
    expect(read.status).toBe(200); // not 201: nothing was created
    expect(read.body).toEqual({ ...b2c.policy, holderOid: newOid });
    expect(read.headers.get('etag')).toBe(b2c.etag);

    const trail = await history(await ext.userToken({ oid: newOid, legacyOid: b2c.oid }));
    expect(trail.body.items).toEqual([
      expect.objectContaining({
        version: 2,
        changedBy: b2c.oid,
        changedByProvider: 'b2c',
        after: split(['Ann Example']),
      }),
    ]);

    const changed = await put(
      await ext.stepUpToken({ oid: newOid, legacyOid: b2c.oid }),
      b2c.etag,
      ['Ann Example', 'Ben Example'],
    );
    expect([changed.status, changed.body.version]).toEqual([200, 3]);
    const after = await history(await ext.userToken({ oid: newOid }));
    expect(after.body.items.map((i) => [i.version, i.changedBy, i.changedByProvider])).toEqual([
      [3, newOid, 'external-id'],
      [2, b2c.oid, 'b2c'],
    ]);

    // During the migration window the B2C sign-in still reaches the same policy.
    const viaB2c = await me(await h.issuer.userToken({ oid: b2c.oid }));
    expect([viaB2c.body.policyNumber, viaB2c.body.version, viaB2c.body.holderOid]).toEqual([
      b2c.policy.policyNumber,
      3,
      b2c.oid,
    ]);

    expect(await identitiesOf(b2c.policy.policyNumber)).toEqual([
      { provider: 'b2c', tenant_id: '', oid: b2c.oid, linked_from: null },
      { provider: 'external-id', tenant_id: ext.tenantId, oid: newOid, linked_from: b2c.oid },
    ]);
    const audit = await auditOf(b2c.oid);
    expect(audit).toEqual([
      {
        outcome: 'linked',
        provider: 'external-id',
        tenant_id: ext.tenantId,
        oid: newOid,
        legacy_oid: b2c.oid,
        client_id: PORTAL_CLIENT_ID,
        request_id: expect.stringMatching(UUID),
        at: expect.any(Date),
      },
    ]);
    expect(audit[0].request_id).not.toBe('caller-chosen-id');
  });

  it.each([
    ['the history', (token: string) => history(token)],
    ['a beneficiary change', (token: string) => put(token, '"v2"', ['Cy Example'])],
  ])('links on the first request even when it is %s', async (_what, first) => {
    const b2c = await b2cCustomer();
    const newOid = randomUUID();
    const r = await first(await ext.stepUpToken({ oid: newOid, legacyOid: b2c.oid }));
    expect(r.status).toBe(200);
    expect(r.body.policyNumber).toBe(b2c.policy.policyNumber);
    expect(await auditOf(b2c.oid)).toEqual([
      expect.objectContaining({ outcome: 'linked', oid: newOid }),
    ]);
  });

  it('the two identities of one linked policy racing on one ETag: exactly one change, the others 412, one history row and one event', async () => {
    const b2c = await b2cCustomer();
    const newOid = randomUUID();
    expect((await me(await ext.userToken({ oid: newOid, legacyOid: b2c.oid }))).status).toBe(200);
    const before = await storedState(h, b2c.oid);
    const [viaB2c, viaExt] = await Promise.all([
      h.issuer.userToken({ oid: b2c.oid, flow: MFA_FLOW }),
      ext.stepUpToken({ oid: newOid, legacyOid: b2c.oid }),
    ]);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        put(i % 2 === 0 ? viaB2c : viaExt, b2c.etag, [`Racer ${i}`]),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, ...Array(7).fill(412)]);
    const after = await storedState(h, b2c.oid);
    expect(after).toEqual({
      version: before.version + 1,
      beneficiaries: results.find((r) => r.status === 200)?.body.beneficiaries,
      history: before.history + 1,
      outbox: before.outbox + 1,
    });
    // Both identities read the same policy afterwards.
    expect(await storedState(h, newOid)).toEqual(after);
  });

  it('concurrent first requests of one migrated user link once', async () => {
    const b2c = await b2cCustomer();
    const newOid = randomUUID();
    const token = await ext.userToken({ oid: newOid, legacyOid: b2c.oid });
    const reads = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 3 === 2 ? history(token) : me(token))),
    );
    expect(reads.map((r) => [r.status, r.body.policyNumber])).toEqual(
      reads.map(() => [200, b2c.policy.policyNumber]),
    );
    expect(await identitiesOf(b2c.policy.policyNumber)).toHaveLength(2);
    expect(await auditOf(b2c.oid)).toEqual([
      expect.objectContaining({ outcome: 'linked', oid: newOid }),
    ]);
  });

  it('two External ID users presenting the same legacy id at once: one gets the policy, the other 409 and nothing', async () => {
    const b2c = await b2cCustomer();
    const [alice, mallory] = [randomUUID(), randomUUID()];
    const [aliceToken, malloryToken] = await Promise.all([
      ext.userToken({ oid: alice, legacyOid: b2c.oid }),
      ext.userToken({ oid: mallory, legacyOid: b2c.oid }),
    ]);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        me(i % 2 === 0 ? aliceToken : malloryToken).then((r) => ({
          who: i % 2 === 0 ? alice : mallory,
          r,
        })),
      ),
    );

    const [winner] = (await identitiesOf(b2c.policy.policyNumber))
      .filter((i) => i.provider === 'external-id')
      .map((i) => i.oid as string);
    const loser = winner === alice ? mallory : alice;
    expect([alice, mallory]).toContain(winner);
    for (const { who, r } of results) {
      if (who === winner)
        expect([r.status, r.body.policyNumber]).toEqual([200, b2c.policy.policyNumber]);
      else expect([r.status, r.body.error]).toEqual([409, 'identity_link_conflict']);
    }
    expect(JSON.stringify(results.filter((x) => x.who === loser))).not.toContain(
      b2c.policy.policyNumber,
    );
    expect(await heldBy(loser)).toBe(0);
    const audit = await auditOf(b2c.oid);
    expect(audit.filter((a) => a.outcome === 'linked').map((a) => a.oid)).toEqual([winner]);
    expect(audit.filter((a) => a.outcome === 'refused_already_linked').length).toBe(5);
    expect(
      new Set(audit.filter((a) => a.outcome === 'refused_already_linked').map((a) => a.oid)),
    ).toEqual(new Set([loser]));
  });

  it('a legacy id already linked to another External ID user is refused (409, audited) on every route and changes nothing', async () => {
    const b2c = await b2cCustomer();
    const owner = randomUUID();
    expect((await me(await ext.userToken({ oid: owner, legacyOid: b2c.oid }))).status).toBe(200);
    const before = await storedState(h, b2c.oid);

    const intruder = randomUUID();
    const token = await ext.stepUpToken({ oid: intruder, legacyOid: b2c.oid.toUpperCase() });
    for (const r of [
      await me(token),
      await history(token),
      await put(token, b2c.etag, ['Mallory']),
    ]) {
      expect(r.status).toBe(409);
      expect(r.body).toEqual({ error: 'identity_link_conflict', message: expect.any(String) });
      expect(JSON.stringify(r.body)).not.toContain(b2c.policy.policyNumber);
    }
    expect(await storedState(h, b2c.oid)).toEqual(before);
    expect(await heldBy(intruder)).toBe(0);
    expect((await auditOf(b2c.oid)).map((a) => [a.outcome, a.oid])).toEqual([
      ['linked', owner],
      ['refused_already_linked', intruder],
      ['refused_already_linked', intruder],
      ['refused_already_linked', intruder],
    ]);
  });

  it('a legacy id that names no B2C policy links nothing: the user gets a new policy of their own', async () => {
    const forged = randomUUID();
    const oid = randomUUID();
    const r = await me(await ext.userToken({ oid, legacyOid: forged }));
    expect([r.status, r.body.holderOid, r.body.version]).toEqual([201, oid, 1]);
    expect(await auditOf(forged)).toEqual([]);
    // The B2C user who later signs up with that oid gets their own policy; the claim no longer matters.
    const b2cLater = await me(await h.issuer.userToken({ oid: forged }));
    expect(b2cLater.status).toBe(201);
    expect(b2cLater.body.policyNumber).not.toBe(r.body.policyNumber);
    expect((await me(await ext.userToken({ oid, legacyOid: forged }))).body.policyNumber).toBe(
      r.body.policyNumber,
    );
  });

  it('never links through a claim that is not a B2C identity: another External ID oid, a non-GUID value, or an email', async () => {
    const other = randomUUID();
    const otherPolicy = await me(await ext.userToken({ oid: other }));
    const b2c = await b2cCustomer();
    for (const legacy of [other, `${b2c.oid} `, 'same@example.test']) {
      const oid = randomUUID();
      const r = await me(
        await ext.userToken({ oid, legacyOid: legacy, extra: { email: 'same@example.test' } }),
      );
      expect(r.status).toBe(201);
      expect([otherPolicy.body.policyNumber, b2c.policy.policyNumber]).not.toContain(
        r.body.policyNumber,
      );
    }
    expect(await auditOf(b2c.oid)).toEqual([]);
  });

  it('a B2C token can never claim a link, even carrying the migration claim', async () => {
    const victim = await b2cCustomer();
    const attacker = randomUUID();
    const token = await h.issuer.sign({
      ...JSON.parse(
        Buffer.from(
          (await h.issuer.userToken({ oid: attacker })).split('.')[1] as string,
          'base64url',
        ).toString(),
      ),
      [LEGACY_CLAIM]: victim.oid,
    });
    const r = await me(token);
    expect([r.status, r.body.holderOid]).toEqual([201, attacker]);
    expect(r.body.policyNumber).not.toBe(victim.policy.policyNumber);
    expect(await auditOf(victim.oid)).toEqual([]);
  });

  it('an External ID user who already holds a policy is not linked later', async () => {
    const b2c = await b2cCustomer();
    const oid = randomUUID();
    const own = await me(await ext.userToken({ oid }));
    expect(own.status).toBe(201);
    const later = await me(await ext.userToken({ oid, legacyOid: b2c.oid }));
    expect([later.status, later.body.policyNumber]).toEqual([200, own.body.policyNumber]);
    expect(await auditOf(b2c.oid)).toEqual([]);
  });
});
