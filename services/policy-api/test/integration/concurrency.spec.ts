import { randomUUID } from 'node:crypto';
import { Harness } from '../support/harness';
import { split, type HistoryBody, type PolicyBody } from '../support/fixtures';
import { MFA_FLOW } from '../support/tokens';

describe('policy-api under concurrency', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start();
  }, 60000);
  afterAll(async () => {
    await h?.stop();
  });

  it('50 parallel first reads by one new user create exactly one policy', async () => {
    const oid = randomUUID();
    const token = await h.issuer.userToken({ oid });
    const results = await Promise.all(
      Array.from({ length: 50 }, () => h.call<PolicyBody>('GET', '/policies/me', { token })),
    );
    // Exactly one read created it (201); the others found it (200).
    expect(results.map((r) => r.status).sort()).toEqual([...Array(49).fill(200), 201]);
    expect(new Set(results.map((r) => r.body.policyNumber)).size).toBe(1);
    const { rows } = await h.db.query(
      'SELECT count(*)::int AS n FROM policies WHERE holder_oid = $1',
      [oid],
    );
    expect(rows[0].n).toBe(1);
  });

  it('first reads of many new users in parallel each get their own, unique policy number', async () => {
    const oids = Array.from({ length: 20 }, () => randomUUID());
    const results = await Promise.all(
      oids.map(async (oid) =>
        h.call<PolicyBody>('GET', '/policies/me', { token: await h.issuer.userToken({ oid }) }),
      ),
    );
    expect(results.map((r) => r.body.holderOid)).toEqual(oids);
    expect(new Set(results.map((r) => r.body.policyNumber)).size).toBe(20);
  });

  it('two writers with the same ETag: one wins, the other gets 412, and no update is lost', async () => {
    const oid = randomUUID();
    const token = await h.issuer.userToken({ oid, flow: MFA_FLOW });
    const read = await h.call<PolicyBody>('GET', '/policies/me', { token });
    const etag = read.headers.get('etag') ?? '';
    const lists = {
      a: split(['Writer A Spouse']),
      b: split(['Writer B Child', 'Writer B Spouse']),
    };
    const write = (w: 'a' | 'b') =>
      h.call<PolicyBody>('PUT', '/policies/me/beneficiaries', {
        token,
        headers: { 'if-match': etag },
        body: { beneficiaries: lists[w] },
      });
    const [a, b] = await Promise.all([write('a'), write('b')]);
    expect([a.status, b.status].sort()).toEqual([200, 412]);
    const [winner, loser] = a.status === 200 ? (['a', 'b'] as const) : (['b', 'a'] as const);
    const current = await h.call<PolicyBody>('GET', '/policies/me', { token });
    expect(current.body.beneficiaries).toEqual(lists[winner]);
    expect(current.body.version).toBe(2);

    // The loser re-reads and re-applies: both changes are in the history, in order.
    const retry = await h.call<PolicyBody>('PUT', '/policies/me/beneficiaries', {
      token,
      headers: { 'if-match': current.headers.get('etag') ?? '' },
      body: { beneficiaries: lists[loser] },
    });
    expect(retry.status).toBe(200);
    const history = await h.call<HistoryBody>('GET', '/policies/me/history', { token });
    expect(history.body.items.map((i) => [i.version, i.before, i.after])).toEqual([
      [3, lists[winner], lists[loser]],
      [2, [], lists[winner]],
    ]);
    // One event per committed change, none for the refused one.
    const { rows } = await h.db.query(
      "SELECT (payload->>'policyVersion')::int AS v FROM outbox WHERE payload->>'holderOid' = $1 ORDER BY 1",
      [oid],
    );
    expect(rows.map((r) => r.v)).toEqual([2, 3]);
  });

  it('ten writers racing on one ETag: exactly one change is committed', async () => {
    const oid = randomUUID();
    const token = await h.issuer.userToken({ oid, flow: MFA_FLOW });
    const etag = (await h.call('GET', '/policies/me', { token })).headers.get('etag') ?? '';
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        h.call('PUT', '/policies/me/beneficiaries', {
          token,
          headers: { 'if-match': etag },
          body: { beneficiaries: split([`Racer ${i}`]) },
        }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 412)).toHaveLength(9);
    const { rows } = await h.db.query(
      'SELECT p.version, count(h.id)::int AS changes FROM policies p LEFT JOIN policy_history h ON h.policy_id = p.id WHERE p.holder_oid = $1 GROUP BY p.version',
      [oid],
    );
    expect(rows).toEqual([{ version: 2, changes: 1 }]);
  });
});
