import { context, propagation, type Context } from '@opentelemetry/api';

/**
 * W3C trace context (`traceparent`, `tracestate`) over a plain string map: the shape of NATS
 * message headers and of an outbox row's stored context. With tracing off nothing is written.
 *
 * The NATS step plugs in here: packages/contracts sets headers with injectTraceContext() on
 * every request and JetStream publish, the outbox stores `injectTraceContext({})` with the row
 * and the relay publishes with it, and consumers run their handler inside
 * `context.with(extractTraceContext(headers), ...)` under a CONSUMER span.
 */
export function injectTraceContext(
  carrier: Record<string, string> = {},
  ctx: Context = context.active(),
): Record<string, string> {
  propagation.inject(ctx, carrier);
  return carrier;
}

/** The context a carrier written by injectTraceContext() continues (the active one if it holds none). */
export function extractTraceContext(
  carrier: Readonly<Record<string, string | undefined>>,
  ctx: Context = context.active(),
): Context {
  return propagation.extract(ctx, carrier, {
    keys: (c) => Object.keys(c),
    get: (c, key) => c[key] ?? c[key.toLowerCase()],
  });
}
