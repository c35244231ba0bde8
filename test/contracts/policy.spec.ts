// Producer side of `policy.beneficiaries.changed.v1`: the real policy-api process, a real B2C
// step-up token from dev-azure, and the event read back from JetStream and decoded with the
// contract's schema, as any consumer of the POLICY stream would.
import {
  CONTRACT_HEADER,
  decodeEvent,
  PolicyBeneficiariesChanged,
  type EventOf,
} from '@idp/contracts';
import type { StoredMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import { call } from '../support/http';
import { claimsOf } from '../support/jwt';
import { startStack, type Stack } from '../support/stack';
import { waitForStream } from '../support/streams';
import { MFA_FLOW, userToken } from '../support/tokens';

jest.setTimeout(60_000);

interface Policy {
  policyNumber: string;
  holderOid: string;
  version: number;
  beneficiaries: { name: string; relationship: string; sharePercent: number }[];
}

type Changed = EventOf<typeof PolicyBeneficiariesChanged>;

describe('contract policy.beneficiaries.changed.v1 (policy-api → POLICY stream)', () => {
  let stack: Stack;
  let observer: NatsConnection;

  beforeAll(async () => {
    stack = await startStack({ services: ['policy-api'] });
    observer = await stack.connect('observer');
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  const api = (path: string) => `${stack.url('policy-api')}${path}`;
  const decoded = (msgs: StoredMsg[]): Changed[] =>
    msgs.map((m) => decodeEvent(PolicyBeneficiariesChanged, m.data));

  it('publishes one conforming event per committed change, with the contract header and the outbox id as message id', async () => {
    const email = 'alice@contoso.example';
    const alice = stack.azure.identity.findUser(email);
    const read = await call<Policy>('GET', api('/policies/me'), {
      token: await userToken(stack, email),
    });
    expect([200, 201]).toContain(read.status); // 201 when this read created the policy
    const etag = read.headers.get('etag');
    expect(etag).toBe(`"v${read.body.version}"`);

    const mfa = await userToken(stack, email, MFA_FLOW);
    const after = [
      { name: 'Carol Example', relationship: 'spouse', sharePercent: 60 },
      { name: 'Zoë Example', relationship: 'child', sharePercent: 40 },
    ];
    const requestId = `contract-${randomUUID()}`;
    const put = await call<Policy>('PUT', api('/policies/me/beneficiaries'), {
      token: mfa,
      headers: { 'if-match': etag ?? '', 'x-request-id': requestId },
      body: { beneficiaries: after },
    });
    expect(put.status).toBe(200);
    expect(put.headers.get('etag')).toBe(`"v${read.body.version + 1}"`);

    const msgs = await waitForStream(observer, 'POLICY', (m) => m.length >= 1);
    expect(msgs).toHaveLength(1);
    const [msg] = msgs as [StoredMsg];
    expect(msg.subject).toBe(PolicyBeneficiariesChanged.subject);
    expect(msg.header.get(CONTRACT_HEADER)).toBe('policy.beneficiaries.changed.v1');

    // decodeEvent validates against the zod schema: a producer drifting from the contract fails here.
    const [event] = decoded(msgs) as [Changed];
    expect(msg.header.get('Nats-Msg-Id')).toBe(event.eventId);
    const claims = claimsOf(mfa);
    expect(event).toEqual({
      eventId: expect.any(String),
      policyNumber: read.body.policyNumber,
      holderOid: alice?.oid,
      policyVersion: read.body.version + 1,
      occurredAt: expect.any(String),
      requestId,
      userFlow: expect.stringMatching(/^b2c_1_signupsignin_mfa$/i),
      authTime: claims.auth_time,
      before: [],
      after,
    });
    // The holder is identified by object id, never by the (mutable) email.
    expect(JSON.stringify(event)).not.toContain(email);
  });

  it('publishes nothing for a no-op change and the next change in order, before = previous after', async () => {
    const email = 'bob@contoso.example';
    const token = await userToken(stack, email, MFA_FLOW);
    const first = await call<Policy>('GET', api('/policies/me'), { token });
    const v1 = [{ name: 'Erin Example', relationship: 'sibling', sharePercent: 100 }];
    const changed = await call<Policy>('PUT', api('/policies/me/beneficiaries'), {
      token,
      headers: { 'if-match': first.headers.get('etag') ?? '' },
      body: { beneficiaries: v1 },
    });
    expect(changed.status).toBe(200);
    // The same list again: no new version, so no event.
    const same = await call<Policy>('PUT', api('/policies/me/beneficiaries'), {
      token,
      headers: { 'if-match': changed.headers.get('etag') ?? '' },
      body: { beneficiaries: v1 },
    });
    expect(same.status).toBe(200);
    expect(same.body.version).toBe(changed.body.version);
    const v2 = [{ name: 'Charity Trust', relationship: 'charity', sharePercent: 100 }];
    const again = await call<Policy>('PUT', api('/policies/me/beneficiaries'), {
      token,
      headers: { 'if-match': same.headers.get('etag') ?? '' },
      body: { beneficiaries: v2 },
    });
    expect(again.status).toBe(200);

    // The relay keeps order, so a stray event for the no-op would sit between these two.
    const msgs = await waitForStream(observer, 'POLICY', (m) =>
      decoded(m).some(
        (e) => e.policyNumber === first.body.policyNumber && e.policyVersion === again.body.version,
      ),
    );
    const bobs = decoded(msgs).filter((e) => e.policyNumber === first.body.policyNumber);
    expect(bobs.map((e) => [e.policyVersion, e.before, e.after])).toEqual([
      [changed.body.version, [], v1],
      [again.body.version, v1, v2],
    ]);
    expect(new Set(decoded(msgs).map((e) => e.eventId)).size).toBe(msgs.length);
  });

  it('publishes nothing for a refused change (sign-in token without step-up)', async () => {
    // A user of its own, so the stream holds only what this test caused for her policy.
    const email = `carol-${randomUUID().slice(0, 8)}@contoso.example`;
    await stack.azure.identity.createUser({
      tenant: 'contoso',
      email,
      password: 'Carol-dev-Passw0rd!',
      givenName: 'Carol',
      surname: 'Example',
      displayName: 'Carol Example',
    });
    const signIn = await userToken(stack, email);
    const read = await call<Policy>('GET', api('/policies/me'), { token: signIn });
    const refused = await call('PUT', api('/policies/me/beneficiaries'), {
      token: signIn,
      headers: { 'if-match': read.headers.get('etag') ?? '' },
      body: { beneficiaries: [{ name: 'Mallory', relationship: 'other', sharePercent: 100 }] },
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/insufficient_user_authentication/);

    const after = [{ name: 'Dan Example', relationship: 'partner', sharePercent: 100 }];
    const ok = await call<Policy>('PUT', api('/policies/me/beneficiaries'), {
      token: await userToken(stack, email, MFA_FLOW),
      headers: { 'if-match': read.headers.get('etag') ?? '' },
      body: { beneficiaries: after },
    });
    expect(ok.status).toBe(200);
    const msgs = await waitForStream(observer, 'POLICY', (m) =>
      decoded(m).some((e) => e.policyNumber === read.body.policyNumber),
    );
    expect(
      decoded(msgs)
        .filter((e) => e.policyNumber === read.body.policyNumber)
        .map((e) => [e.policyVersion, e.before, e.after]),
    ).toEqual([[read.body.version + 1, [], after]]);
  });
});
