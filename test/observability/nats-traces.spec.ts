// W3C trace context across NATS (issue 15): a request's trace continues through PostgreSQL and
// the outbox relay into the JetStream event and its consumer, and a token request over NATS is
// answered in a broker span that is a child of the caller's. Real services, OTLP/JSON receiver.
import {
  CONTRACT_HEADER,
  PolicyBeneficiariesChanged,
  request,
  ScimUserDeactivated,
  tokensAcquireSubject,
  TokensAcquire,
  TokensIssued,
  traceContextOf,
  decodeEvent,
} from '@idp/contracts';
import type { NatsConnection } from '@nats-io/transport-node';
import { randomBytes } from 'node:crypto';
import { call } from '../support/http';
import { startStack, type Stack } from '../support/stack';
import { waitForStream } from '../support/streams';
import { MFA_FLOW, scimAdminToken, userToken } from '../support/tokens';
import {
  otelEnv,
  SpanKind,
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from './otlp-receiver';
import { tracedConsumer, type TracedConsumer } from './test-consumer';

jest.setTimeout(120_000);

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const inTrace = (spans: ReceivedSpan[], traceId: string) =>
  spans.filter((s) => s.traceId === traceId);
const isPg = (s: ReceivedSpan) =>
  s.attributes['db.system.name'] === 'postgresql' || s.attributes['db.system'] === 'postgresql';
/** `[traceId, parentSpanId]` of a traceparent header value. */
const parts = (traceparent: string | undefined) => (traceparent ?? '').split('-').slice(1, 3);

describe('trace context over NATS (requests, JetStream events, the outbox)', () => {
  let receiver: OtlpReceiver;
  let stack: Stack;
  let observer: NatsConnection;
  let consumer: TracedConsumer;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const env = otelEnv(receiver);
    stack = await startStack({
      services: ['policy-api', 'scim', 'token-broker'],
      env: { 'policy-api': env, scim: env, 'token-broker': env },
    });
    observer = await stack.connect('observer');
    consumer = tracedConsumer();
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
    await receiver?.stop();
  });

  it('a beneficiary change is one trace: policy-api, PostgreSQL, the outbox relay publish, and the consumer of the event', async () => {
    const email = 'alice@contoso.example';
    const api = `${stack.url('policy-api')}/policies/me`;
    const read = await call<{ version: number }>('GET', api, {
      token: await userToken(stack, email),
    });
    expect([200, 201]).toContain(read.status);
    const traceId = hex(16);
    const parent = hex(8);
    const put = await call('PUT', `${api}/beneficiaries`, {
      token: await userToken(stack, email, MFA_FLOW),
      headers: {
        'if-match': read.headers.get('etag') ?? '',
        traceparent: `00-${traceId}-${parent}-01`,
      },
      body: {
        beneficiaries: [{ name: 'Carol Example', relationship: 'spouse', sharePercent: 100 }],
      },
    });
    expect(put.status).toBe(200);

    const spans = await receiver.waitFor((all) => {
      const t = inTrace(all, traceId);
      return t.some((s) => s.kind === SpanKind.SERVER) &&
        t.some(isPg) &&
        t.some((s) => s.kind === SpanKind.PRODUCER)
        ? t
        : undefined;
    }, 'policy-api server, pg and outbox publish spans in one trace');
    const server = spans.find((s) => s.kind === SpanKind.SERVER)!;
    expect(server.service).toBe('policy-api');
    expect(server.parentSpanId).toBe(parent);
    expect(spans.filter(isPg).every((s) => s.service === 'policy-api')).toBe(true);
    const publish = spans.find((s) => s.kind === SpanKind.PRODUCER)!;
    expect(publish.service).toBe('policy-api');
    expect(publish.name).toBe(`publish ${PolicyBeneficiariesChanged.subject}`);
    expect(publish.attributes['messaging.destination.name']).toBe(
      PolicyBeneficiariesChanged.subject,
    );
    // The relay ran later, outside the request: its span descends from the request's spans.
    const ids = new Set(spans.map((s) => s.spanId));
    expect(ids.has(publish.parentSpanId ?? '')).toBe(true);

    // The event carries the relay's span as its parent, and only trace context besides the contract headers.
    const msgs = await waitForStream(observer, 'POLICY', (m) =>
      m.some((x) => traceContextOf(x.header).traceparent?.includes(traceId)),
    );
    const msg = msgs.find((x) => traceContextOf(x.header).traceparent?.includes(traceId))!;
    expect(parts(msg.header.get('traceparent'))).toEqual([traceId, publish.spanId]);
    expect([...msg.header.keys()].sort()).toEqual(
      [CONTRACT_HEADER, 'Nats-Msg-Id', 'traceparent'].sort(),
    );

    const event = await consumer.consume(PolicyBeneficiariesChanged, msg);
    expect(event.after).toEqual([
      { name: 'Carol Example', relationship: 'spouse', sharePercent: 100 },
    ]);
    const consumed = consumer.spans().find((s) => s.spanContext().traceId === traceId);
    expect(consumed?.kind).toBe(SpanKind.CONSUMER - 1); // the API's enum is 0-based, OTLP's 1-based
    expect(consumed?.parentSpanContext?.spanId).toBe(publish.spanId);
  });

  it('a SCIM PATCH is one trace: scim, PostgreSQL and the event it causes', async () => {
    const admin = await scimAdminToken(stack);
    // Directories exist only once created (admin API).
    const directory = await call('POST', `${stack.url('scim')}/admin/directories`, {
      token: admin,
      body: { id: 'otel-nats' },
    });
    expect(directory.status).toBe(201);
    const created = await call<{ token: string }>(
      'POST',
      `${stack.url('scim')}/admin/directories/otel-nats/tokens`,
      { token: admin, body: { name: 'otel', lifetimeDays: 30 } },
    );
    expect(created.status).toBe(201);
    const scim = `${stack.url('scim')}/scim/v2`;
    const scimHeaders = { 'content-type': 'application/scim+json' };
    const user = await call<{ id: string }>('POST', `${scim}/Users`, {
      token: created.body.token,
      headers: scimHeaders,
      body: {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: 'nats.traced@fabrikam.example',
        active: true,
      },
    });
    expect(user.status).toBe(201);
    const traceId = hex(16);
    const patch = await call('PATCH', `${scim}/Users/${user.body.id}`, {
      token: created.body.token,
      headers: { ...scimHeaders, traceparent: `00-${traceId}-${hex(8)}-01` },
      body: {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: 'active', value: false }],
      },
    });
    expect(patch.status).toBe(200);

    const spans = await receiver.waitFor((all) => {
      const t = inTrace(all, traceId);
      return t.some((s) => s.kind === SpanKind.SERVER) &&
        t.some(isPg) &&
        t.some((s) => s.kind === SpanKind.PRODUCER)
        ? t
        : undefined;
    }, 'scim server, pg and event publish spans in one trace');
    expect(spans.every((s) => s.service === 'scim')).toBe(true);
    const publish = spans.find((s) => s.kind === SpanKind.PRODUCER)!;
    expect(publish.name).toBe(`publish ${ScimUserDeactivated.subject}`);
    const msgs = await waitForStream(observer, 'SCIM', (m) =>
      m.some((x) => traceContextOf(x.header).traceparent?.includes(traceId)),
    );
    const msg = msgs.find((x) => traceContextOf(x.header).traceparent?.includes(traceId))!;
    expect(msg.subject).toBe(ScimUserDeactivated.subject);
    expect(parts(msg.header.get('traceparent'))).toEqual([traceId, publish.spanId]);
    expect(decodeEvent(ScimUserDeactivated, msg.data).userId).toBe(user.body.id);
  });

  it("a token request over NATS is answered in a broker SERVER span that is a child of the caller's, and its audit event stays in the trace", async () => {
    const reader = await stack.connect('policy-reader');
    const traceId = hex(16);
    const parent = hex(8);
    const reply = await request(
      reader,
      TokensAcquire,
      { registration: 'policy-daemon', scope: 'api://policy-api/.default' },
      {
        subject: tokensAcquireSubject('policy-reader'),
        timeout: 30_000,
        trace: { traceparent: `00-${traceId}-${parent}-01` },
      },
    );
    expect(reply.ok).toBe(true);
    await reader.close();

    const server = await receiver.waitFor(
      (all) =>
        inTrace(all, traceId).find(
          (s) => s.service === 'token-broker' && s.kind === SpanKind.SERVER,
        ),
      'token-broker server span in the caller trace',
    );
    expect(server.name).toBe(TokensAcquire.subject);
    expect(server.parentSpanId).toBe(parent);
    // Key Vault and Entra calls of a cache miss are under it.
    const clients = await receiver.waitFor((all) => {
      const c = inTrace(all, traceId).filter((s) => s.kind === SpanKind.CLIENT);
      return c.length >= 2 ? c : undefined;
    }, 'broker client spans in the caller trace');
    expect(clients.every((s) => s.service === 'token-broker')).toBe(true);

    const issued = await waitForStream(observer, 'TOKENS', (m) =>
      m.some((x) => parts(x.header.get('traceparent'))[0] === traceId),
    );
    const audit = issued.find((x) => parts(x.header.get('traceparent'))[0] === traceId)!;
    expect(audit.subject).toBe(TokensIssued.subject);
    expect(inTrace(receiver.spans, traceId).map((s) => s.spanId)).toContain(
      parts(audit.header.get('traceparent'))[1],
    );
  });
});
