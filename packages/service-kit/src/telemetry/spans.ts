import {
  context,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Tracer,
} from '@opentelemetry/api';
import { traceContextFrom, type TraceContext } from '@idp/contracts';
import { extractTraceContext, injectTraceContext } from './propagation';

let cachedTracer: Tracer | undefined;
const tracer = (): Tracer => (cachedTracer ??= trace.getTracer('@idp/service-kit'));

/** `trace_id`/`span_id` of the active span, for every pino line (empty when nothing is traced). */
export function traceLogFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const sc = span.spanContext();
  return isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : {};
}

/**
 * Runs `op` inside a CLIENT span, for calls no instrumentation names (MSAL's token requests:
 * their HTTP exchange shows as a child). Attributes must carry no token or personal data.
 */
export async function withClientSpan<T>(
  name: string,
  attributes: Attributes,
  op: () => Promise<T>,
): Promise<T> {
  return tracer().startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    try {
      return await op();
    } catch (e) {
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: e instanceof Error ? e.name : 'error',
      });
      throw e;
    } finally {
      span.end();
    }
  });
}

/** Set once the SDK started (register.ts): without it message spans cost nothing at all. */
let messageSpans = false;
export function enableMessageSpans(): void {
  messageSpans = true;
}

const SPAN_KIND = {
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
  server: SpanKind.SERVER,
} as const;

/**
 * Runs `op` in a span for a NATS message whose parent is the W3C context the message (or an
 * outbox row) carries: a PRODUCER span around a publish, a CONSUMER span around handling an
 * event, a SERVER span around answering a request. `op` gets the span's own context to send on
 * (what the message carried when tracing is off here). Attributes must carry no token or personal data.
 */
export async function withMessageSpan<T>(
  kind: keyof typeof SPAN_KIND,
  name: string,
  carrier: TraceContext,
  attributes: Attributes,
  op: (trace: TraceContext) => Promise<T>,
): Promise<T> {
  // Tracing off here: what the message carried is passed on untouched (another replica may trace).
  if (!messageSpans) return op(traceContextFrom(carrier));
  const parent = extractTraceContext({ ...carrier }, ROOT_CONTEXT);
  return tracer().startActiveSpan(
    name,
    { kind: SPAN_KIND[kind], attributes: { 'messaging.system': 'nats', ...attributes } },
    parent,
    async (span) => {
      try {
        return await op(traceContextFrom(injectTraceContext({})));
      } catch (e) {
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: e instanceof Error ? e.name : 'error',
        });
        throw e;
      } finally {
        span.end();
      }
    },
  );
}
