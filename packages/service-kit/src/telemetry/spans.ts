import {
  context,
  isSpanContextValid,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
} from '@opentelemetry/api';

const tracer = () => trace.getTracer('@idp/service-kit');

/** `trace_id`/`span_id` of the active span, for every pino line (empty when nothing is traced). */
export function traceLogFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const sc = span.spanContext();
  return isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : {};
}

/** Names the active HTTP server span after the route template (never the raw path). */
export function nameServerSpan(method: string, route: string): void {
  const span = trace.getSpan(context.active());
  if (!span?.isRecording()) return;
  span.setAttribute('http.route', route);
  span.updateName(`${method} ${route}`);
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
