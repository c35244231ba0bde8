import { randomBytes, randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { startNats, type TestNatsServer } from '@idp/testing';
import {
  ensureStreams,
  parseRequest,
  PolicyBeneficiariesChanged,
  publishEvent,
  request,
  respond,
  setTraceContextSource,
  traceContextFrom,
  traceContextOf,
  TokensAcquire,
} from '../../src';

const traceparent = () =>
  `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;

describe('W3C trace context in NATS headers', () => {
  let nats: TestNatsServer;
  let nc: NatsConnection;
  beforeAll(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
  });
  afterEach(() => setTraceContextSource(() => ({})));
  afterAll(async () => {
    await nc.close();
    await nats.dispose();
  });

  it('a request carries the active trace context (and no other header from the source) to the responder', async () => {
    const tp = traceparent();
    setTraceContextSource(() => ({
      traceparent: tp,
      tracestate: 'vendor=1',
      baggage: 'user=alice@contoso.example',
    }));
    const seen: Array<{ trace: unknown; keys: string[] }> = [];
    const sub = nc.subscribe(TokensAcquire.subject, {
      callback: (_e, m) => {
        seen.push({
          trace: traceContextOf(m.headers),
          keys: m.headers ? [...m.headers.keys()].sort() : [],
        });
        const parsed = parseRequest(TokensAcquire, m);
        if (parsed.ok)
          respond(TokensAcquire, m, {
            ok: true,
            accessToken: 't',
            tokenType: 'Bearer',
            expiresOn: 2e9,
          });
      },
    });
    await request(nc, TokensAcquire, { registration: 'r', scope: 's/.default' });
    const explicit = traceparent();
    await request(
      nc,
      TokensAcquire,
      { registration: 'r', scope: 's/.default' },
      { trace: { traceparent: explicit } },
    );
    sub.unsubscribe();
    expect(seen[0]).toEqual({
      trace: { traceparent: tp, tracestate: 'vendor=1' },
      keys: ['Idp-Contract', 'traceparent', 'tracestate'],
    });
    expect(seen[1]?.trace).toEqual({ traceparent: explicit });
  });

  it('a JetStream event carries the trace context it is published with', async () => {
    await ensureStreams(await jetstreamManager(nc), ['POLICY']);
    const event = {
      eventId: randomUUID(),
      policyNumber: 'P-T',
      holderOid: 'oid-1',
      policyVersion: 2,
      occurredAt: new Date().toISOString(),
      requestId: 'r1',
      userFlow: 'b2c_1_signupsignin_mfa',
      authTime: 1,
      before: [],
      after: [{ name: 'Ann', relationship: 'spouse' as const, sharePercent: 100 }],
    };
    const tp = traceparent();
    const js = jetstream(nc);
    await publishEvent(js, PolicyBeneficiariesChanged, event, event.eventId, {
      trace: { traceparent: tp },
    });
    const jsm = await jetstreamManager(nc);
    const { state } = await jsm.streams.info('POLICY');
    const stored = await jsm.streams.getMessage('POLICY', { seq: state.last_seq });
    expect(traceContextOf(stored?.header)).toEqual({ traceparent: tp });
  });

  it('nothing traced: no trace headers', async () => {
    const sub = nc.subscribe(TokensAcquire.subject, {
      max: 1,
      callback: (_e, m) =>
        void respond(TokensAcquire, m, {
          ok: false,
          error: { code: 'bad_request', message: String(m.headers?.has('traceparent')) },
        }),
    });
    const r = await request(nc, TokensAcquire, { registration: 'r', scope: 's/.default' });
    sub.unsubscribe();
    expect(r).toEqual({ ok: false, error: { code: 'bad_request', message: 'false' } });
  });

  it('reads only a well-formed traceparent, and tracestate only beside it', () => {
    const h = headers();
    h.set('traceparent', `00-${'0'.repeat(32)}-${'a'.repeat(16)}-01`);
    h.set('tracestate', 'x=1');
    expect(traceContextOf(h)).toEqual({});
    expect(traceContextOf(undefined)).toEqual({});
    expect(traceContextFrom({ traceparent: 'garbage', tracestate: 'x=1' })).toEqual({});
    expect(
      traceContextFrom({
        traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
        tracestate: 'x'.repeat(600),
      }),
    ).toEqual({ traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` });
    expect(traceContextFrom(null)).toEqual({});
  });
});
