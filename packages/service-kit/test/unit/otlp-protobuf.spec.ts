import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
} from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';
import { encodeTraceExportRequest } from '../../src/telemetry/otlp-protobuf';

/** Spans of every shape the SDK produces, recorded by a real provider. */
function recordSpans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': 'policy-api',
      'service.instance.id': 'ünïcode-☃',
      'process.pid': 4242,
    }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const http = provider.getTracer('@idp/service-kit/http');
  const pg = provider.getTracer('@opentelemetry/instrumentation-pg', '0.78.0', {
    schemaUrl: 'https://opentelemetry.io/schemas/1.27.0',
  });
  const remote = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: new TraceState('vendor=abc,other=1'),
  });
  const server = http.startSpan(
    'GET /policies/me',
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET' } },
    remote,
  );
  server.setAttribute('url.path', '/policies/me');
  server.setAttribute('http.response.status_code', 200);
  const attributes: Attributes = {
    'db.query.text': `SELECT ${'x, '.repeat(100)}1`, // > 128 bytes: a two-byte length
    long: 'y'.repeat(20_000), // three-byte lengths up the message chain
    utf8: 'grüße ☃ 😀',
    negative: -5,
    big: 2 ** 40,
    double: 3.25,
    flag: false,
    list: ['a', 'b'],
    numbers: [1, -2, 3.5],
    empty: [],
  };
  const query = pg.startSpan(
    'pg.query:policy_by_identity',
    { kind: SpanKind.CLIENT, attributes },
    trace.setSpan(ROOT_CONTEXT, server),
  );
  query.addEvent('exception', { 'exception.type': 'Error', 'exception.message': 'boom' });
  query.addEvent('plain');
  query.addLink({ context: server.spanContext(), attributes: { why: 'batched' } });
  query.addLink({
    context: remote === ROOT_CONTEXT ? server.spanContext() : trace.getSpanContext(remote)!,
  });
  query.setStatus({ code: SpanStatusCode.ERROR, message: 'connection reset' });
  query.end();
  server.end();
  const internal = http.startSpan('internal, no attributes');
  internal.setStatus({ code: SpanStatusCode.OK });
  internal.end();
  return exporter.getFinishedSpans();
}

describe('OTLP protobuf trace encoding', () => {
  const spans = recordSpans();

  it('writes exactly the bytes of the stock ProtobufTraceSerializer', () => {
    const expected = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!);
    expect(expected.length).toBeGreaterThan(20_000);
    expect(Buffer.from(encodeTraceExportRequest(spans)).equals(expected)).toBe(true);
  });

  it('matches for single spans, reordered batches and an empty batch', () => {
    const batches = [[], ...spans.map((s) => [s]), [...spans].reverse(), [...spans, ...spans]];
    for (const batch of batches)
      expect(Buffer.from(encodeTraceExportRequest(batch))).toEqual(
        Buffer.from(ProtobufTraceSerializer.serializeRequest(batch)!),
      );
  });
});
