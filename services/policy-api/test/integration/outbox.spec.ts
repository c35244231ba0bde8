import { randomUUID } from 'node:crypto';
import { decodeEvent, PolicyBeneficiariesChanged, type EventOf } from '@idp/contracts';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Harness } from '../support/harness';
import { split, type PolicyBody } from '../support/fixtures';
import { MFA_FLOW } from '../support/tokens';

type Changed = EventOf<typeof PolicyBeneficiariesChanged>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  attempts = 300,
): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('policy.beneficiaries.changed via the transactional outbox', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start();
  }, 60000);
  afterAll(async () => {
    await h?.stop();
  });

  /** Every event for one holder in the POLICY stream, read directly from JetStream. */
  async function eventsFor(holderOid: string): Promise<Changed[]> {
    const nc: NatsConnection = await connect({ servers: h.nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info('POLICY');
      const out: Changed[] = [];
      for (
        let seq = info.state.first_seq;
        seq <= info.state.last_seq && info.state.messages > 0;
        seq++
      ) {
        const m = await jsm.streams.getMessage('POLICY', { seq });
        if (!m || m.subject !== PolicyBeneficiariesChanged.subject) continue; // null: a deleted sequence
        const e = decodeEvent(PolicyBeneficiariesChanged, m.data);
        if (e.holderOid === holderOid) out.push(e);
      }
      return out;
    } finally {
      await nc.close();
    }
  }

  const pending = async () =>
    (
      await h.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL',
      )
    ).rows[0]?.n;

  it('publishes each committed change with its audit data', async () => {
    const oid = randomUUID();
    const token = await h.issuer.userToken({ oid, flow: MFA_FLOW });
    const read = await h.call<PolicyBody>('GET', '/policies/me', { token });
    const r = await h.call<PolicyBody>('PUT', '/policies/me/beneficiaries', {
      token,
      headers: { 'if-match': read.headers.get('etag') ?? '', 'x-request-id': 'req-outbox-1' },
      body: { beneficiaries: split(['Ann Example']) },
    });
    expect(r.status).toBe(200);
    const [event] = await until('the event', async () =>
      (await eventsFor(oid)).length ? eventsFor(oid) : undefined,
    );
    expect(event).toEqual({
      eventId: expect.any(String),
      policyNumber: read.body.policyNumber,
      holderOid: oid,
      policyVersion: 2,
      occurredAt: r.body.updatedAt,
      requestId: 'req-outbox-1',
      userFlow: MFA_FLOW.toLowerCase(),
      authTime: expect.any(Number),
      before: [],
      after: split(['Ann Example']),
    });
  });

  it('survives a NATS outage: changes commit while NATS is down and each arrives exactly once after it returns', async () => {
    const oid = randomUUID();
    const token = await h.issuer.userToken({ oid, flow: MFA_FLOW });
    let etag = (await h.call('GET', '/policies/me', { token })).headers.get('etag') ?? '';
    await until('an empty outbox', async () => ((await pending()) === 0 ? true : undefined));

    await h.nats.stop();
    try {
      for (const names of [['First'], ['First', 'Second'], ['Third']]) {
        const r = await h.call('PUT', '/policies/me/beneficiaries', {
          token,
          headers: { 'if-match': etag },
          body: { beneficiaries: split(names) },
        });
        expect(r.status).toBe(200); // the API does not depend on NATS to accept a change
        etag = r.headers.get('etag') ?? '';
      }
      // Give the relay a few attempts against the dead server; the rows stay pending.
      await until('a failed publish attempt', async () => {
        const { rows } = await h.db.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL AND attempts > 0 AND payload->>'holderOid' = $1",
          [oid],
        );
        return (rows[0]?.n ?? 0) > 0 ? true : undefined;
      });
      expect(await pending()).toBe(3);
    } finally {
      await h.nats.start();
    }

    await until('the outbox to drain', async () => ((await pending()) === 0 ? true : undefined));
    const events = await eventsFor(oid);
    expect(events.map((e) => e.policyVersion)).toEqual([2, 3, 4]);
    expect(events.map((e) => e.after)).toEqual([
      split(['First']),
      split(['First', 'Second']),
      split(['Third']),
    ]);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(3);
  });
});
