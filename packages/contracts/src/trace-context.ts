import type { MsgHdrs } from '@nats-io/transport-node';

/**
 * W3C trace context as it travels in NATS message headers and in an outbox row: only
 * `traceparent` and `tracestate`, nothing else (no baggage, nothing from the payload).
 *
 * This package stays free of OpenTelemetry: a service that traces registers where the active
 * context comes from (service-kit does, with its W3C propagator, when the SDK starts). With
 * nothing registered no header is written and reading costs a header lookup.
 */
export interface TraceContext {
  traceparent?: string;
  tracestate?: string;
}

export const TRACE_HEADERS = ['traceparent', 'tracestate'] as const;

const NO_TRACE: TraceContext = Object.freeze({});
// version-traceid-parentid-flags; an all-zero trace or span id is invalid (W3C Trace Context §3.2).
const TRACEPARENT = /^[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;
const MAX_TRACESTATE = 512;

let source: () => TraceContext = () => NO_TRACE;

/** Where the active trace context comes from (service-kit's telemetry registers its propagator). */
export function setTraceContextSource(fn: () => Readonly<Record<string, string>>): void {
  source = () => traceContextFrom(fn());
}

/** The active trace context to send with a message (empty when nothing is traced). */
export function activeTraceContext(): TraceContext {
  return source();
}

/** Keeps only a well-formed `traceparent` and, with it, a bounded `tracestate`. */
export function traceContextFrom(
  carrier: TraceContext | Readonly<Record<string, unknown>> | null | undefined,
): TraceContext {
  const tp = carrier?.traceparent;
  if (typeof tp !== 'string' || !TRACEPARENT.test(tp)) return NO_TRACE;
  const ts = carrier?.tracestate;
  return typeof ts === 'string' && ts.length > 0 && ts.length <= MAX_TRACESTATE
    ? { traceparent: tp, tracestate: ts }
    : { traceparent: tp };
}

/** The trace context a received message carries (empty when it carries none or a malformed one). */
export function traceContextOf(headers: MsgHdrs | undefined): TraceContext {
  if (!headers?.has('traceparent')) return NO_TRACE;
  return traceContextFrom({
    traceparent: headers.get('traceparent'),
    tracestate: headers.get('tracestate'),
  });
}

/** Sets the trace headers on outgoing headers (and nothing else). */
export function setTraceHeaders(headers: MsgHdrs, trace: TraceContext): void {
  const t = traceContextFrom(trace);
  if (t.traceparent) headers.set('traceparent', t.traceparent);
  if (t.tracestate) headers.set('tracestate', t.tracestate);
}
