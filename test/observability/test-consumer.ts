// A consumer in the test process that traces like a service would: service-kit's
// withMessageSpan() under an in-memory tracer provider, so the test can see its CONSUMER span.
import { propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';
import { decodeEvent, traceContextOf, type EventContract, type EventOf } from '@idp/contracts';
import { enableMessageSpans, withMessageSpan } from '@idp/service-kit';
import type { StoredMsg } from '@nats-io/jetstream';

export interface TracedConsumer {
  /** Decodes `msg` inside a CONSUMER span continuing the context its headers carry. */
  consume<C extends EventContract>(c: C, msg: StoredMsg): Promise<EventOf<C>>;
  spans(): ReadableSpan[];
}

export function tracedConsumer(): TracedConsumer {
  const exporter = new InMemorySpanExporter();
  trace.setGlobalTracerProvider(
    new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }),
  );
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  enableMessageSpans();
  return {
    consume: (c, msg) =>
      withMessageSpan(
        'consumer',
        `process ${c.subject}`,
        traceContextOf(msg.header),
        { 'messaging.destination.name': c.subject, 'messaging.operation.type': 'process' },
        async () => decodeEvent(c, msg.data),
      ),
    spans: () => exporter.getFinishedSpans(),
  };
}
