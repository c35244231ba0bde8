import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNats, type TestNatsServer } from '@idp/testing';
import {
  ALL_CONTRACTS,
  ContractViolation,
  decodeEvent,
  encodeEvent,
  ensureStreams,
  parseRequest,
  PolicyBeneficiariesChanged,
  publishEvent,
  request,
  respond,
  TokensAcquire,
} from '../../src';

describe('contracts on the wire', () => {
  let nats: TestNatsServer;
  let nc: NatsConnection;
  beforeAll(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    await nc.close();
    await nats.dispose();
  });

  it('names every subject once, versioned', () => {
    const subjects = ALL_CONTRACTS.map((c) => c.subject);
    expect(new Set(subjects).size).toBe(subjects.length);
    for (const c of ALL_CONTRACTS) expect(c.subject).toBe(`${c.name}.v${c.version}`);
  });

  it('refuses to encode an event that breaks its schema', () => {
    expect(() =>
      encodeEvent(PolicyBeneficiariesChanged, { eventId: 'not-a-uuid' } as never),
    ).toThrow(ContractViolation);
  });

  it('refuses to decode bytes that are not the contract', () => {
    expect(() =>
      decodeEvent(PolicyBeneficiariesChanged, new TextEncoder().encode('{"x":1}')),
    ).toThrow(/policyNumber/);
    expect(() => decodeEvent(PolicyBeneficiariesChanged, new TextEncoder().encode('nope'))).toThrow(
      /not JSON/,
    );
  });

  it('publishes an event to JetStream exactly once per message id', async () => {
    const jsm = await jetstreamManager(nc);
    await ensureStreams(jsm, ['POLICY']);
    await ensureStreams(jsm, ['POLICY']); // idempotent
    const event = {
      eventId: randomUUID(),
      policyNumber: 'P-1',
      holderOid: 'oid-1',
      policyVersion: 2,
      occurredAt: new Date().toISOString(),
      requestId: 'r1',
      userFlow: 'b2c_1_signupsignin_mfa',
      authTime: 1,
      before: [],
      after: [{ name: 'Ann', relationship: 'spouse' as const, sharePercent: 100 }],
    };
    const js = jetstream(nc);
    await publishEvent(js, PolicyBeneficiariesChanged, event, event.eventId);
    await publishEvent(js, PolicyBeneficiariesChanged, event, event.eventId);
    const info = await jsm.streams.info('POLICY');
    expect(info.state.messages).toBe(1);
    const m = await (await js.consumers.get('POLICY')).next();
    expect(m).not.toBeNull();
    expect(decodeEvent(PolicyBeneficiariesChanged, m!.data)).toEqual(event);
  });

  it('validates requests and replies on both sides', async () => {
    const sub = nc.subscribe(TokensAcquire.subject);
    void (async () => {
      for await (const m of sub) {
        const parsed = parseRequest(TokensAcquire, m);
        if (!parsed.ok)
          respond(TokensAcquire, m, {
            ok: false,
            error: { code: 'bad_request', message: parsed.error.message },
          });
        else
          respond(TokensAcquire, m, {
            ok: true,
            accessToken: `t-${parsed.value.scope}`,
            tokenType: 'Bearer',
            expiresOn: 2e9,
          });
      }
    })();
    const good = await request(nc, TokensAcquire, { registration: 'r', scope: 's/.default' });
    expect(good).toEqual({
      ok: true,
      accessToken: 't-s/.default',
      tokenType: 'Bearer',
      expiresOn: 2e9,
    });
    const raw = await nc.request(TokensAcquire.subject, '{"registration":""}');
    const bad = raw.json<{ ok: boolean; error: { code: string } }>();
    expect(bad.ok).toBe(false);
    expect(bad.error.code).toBe('bad_request');
    sub.unsubscribe();
  });
});
