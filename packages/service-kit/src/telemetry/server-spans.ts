import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  isSpanContextValid,
  trace,
  type Attributes,
  type Link,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { cameFromOutside } from '../http/from-outside';
import { redactUrl } from './redaction';
import { UNTRACED_PATHS } from './settings';

/**
 * HTTP SERVER spans from two Fastify hooks instead of the generic node:http instrumentation
 * (which measured +150 µs of CPU per request on policy-api's GET /policies/me, against ~110 µs
 * for the whole untraced request): the span starts in `onRequest` under the caller's W3C context,
 * named after the route template (`GET /policies/:id`, never the raw path), and the rest of the
 * request (guards, handler, pg, outgoing calls) runs inside it; it ends in `onResponse` with the
 * status. Attributes follow the stable HTTP semantic conventions; no header, body, client address
 * or query value is recorded. With tracing off (no SDK started) the hooks are not even added.
 */
let enabled = false;
export function enableServerSpans(): void {
  enabled = true;
}

// A declared request property (decorateRequest) keeps Fastify's request objects one shape.
const SPAN = 'idpServerSpan';
type Traced = FastifyRequest & { [SPAN]?: Span | null };
let cachedTracer: Tracer | undefined;
/** Looked up once, at the first request (the SDK's provider is registered by then). */
const tracer = (): Tracer => (cachedTracer ??= trace.getTracer('@idp/service-kit/http'));

// Spans of requests not answered yet, per connection. A request is aborted when its connection
// closes before the answer: one 'close' listener per connection ends those spans. (Fastify's
// onRequestAbort hook adds a listener to every request instead: that measured ~15 µs of CPU per
// request on policy-api's GET /policies/me.)
const IN_FLIGHT = Symbol('idpServerSpans');
type TrackedSocket = Socket & { [IN_FLIGHT]?: Set<Span> };

function track(socket: TrackedSocket | null, span: Span): void {
  if (typeof socket?.once !== 'function') return; // an injected request's stand-in socket
  let spans = socket[IN_FLIGHT];
  if (!spans) {
    const open = (spans = socket[IN_FLIGHT] = new Set());
    socket.once('close', () => {
      for (const s of open) {
        if (!s.isRecording()) continue; // ended meanwhile
        s.setAttribute('error.type', 'aborted');
        s.end();
      }
      open.clear();
    });
  }
  spans.add(span);
}

// The headers the configured propagators read (W3C: traceparent, tracestate, baggage), looked
// up at the first request. A request carrying none of them has nothing to extract: the root
// context, without the propagators' work (~4 µs of CPU per request measured on policy-api).
// A request from outside (through the ingress or the entry proxy) starts its own trace whatever
// it carries: its sampled flag made the parent-based sampler record every one of an anonymous
// client's requests (10 % sampling became 100 % at will, ~10 % of throughput and the collector's
// volume), its trace id put spans into someone else's trace, and its baggage went on downstream.
// Its trace context is kept only as a span link (OTel's advice for untrusted callers): a browser
// or API gateway trace can still be joined to ours, but decides nothing.
let fields: readonly string[] | undefined;
function callerContext(headers: Record<string, unknown>): Context {
  if (cameFromOutside(headers)) return ROOT_CONTEXT;
  fields ??= propagation.fields();
  for (const f of fields)
    if (headers[f] !== undefined) return propagation.extract(ROOT_CONTEXT, headers);
  return ROOT_CONTEXT;
}

/** The W3C trace context an outside request carried, as a link (none if it carried none). */
function outsideCallerLink(headers: Record<string, unknown>): Link[] | undefined {
  if (headers.traceparent === undefined || !cameFromOutside(headers)) return undefined;
  const remote = trace.getSpanContext(
    propagation.extract(ROOT_CONTEXT, { traceparent: headers.traceparent }),
  );
  return remote && isSpanContextValid(remote) ? [{ context: remote }] : undefined;
}

/** Adds the span hooks to `fastify` when tracing runs (call before any route is registered). */
export function traceServerRequests(fastify: FastifyInstance): void {
  if (!enabled) return;
  fastify.decorateRequest(SPAN, null);
  fastify.addHook('onRequest', (req, _reply, done) => {
    const q = req.url.indexOf('?');
    const path = q < 0 ? req.url : req.url.slice(0, q);
    if (UNTRACED_PATHS.has(path)) return done();
    const route = req.routeOptions.url;
    // What a sampler may look at goes in at the start; the rest only when the span records.
    const attributes: Attributes = { 'http.request.method': req.method };
    if (route) attributes['http.route'] = route;
    const parent = callerContext(req.headers);
    const links = parent === ROOT_CONTEXT ? outsideCallerLink(req.headers) : undefined;
    const span = tracer().startSpan(
      route ? `${req.method} ${route}` : req.method,
      { kind: SpanKind.SERVER, attributes, links },
      parent,
    );
    if (span.isRecording()) {
      span.setAttribute('url.scheme', req.protocol);
      span.setAttribute('url.path', path);
      if (q >= 0) span.setAttribute('url.query', redactUrl(req.url.slice(q + 1), true));
      track(req.raw.socket, span);
    }
    (req as Traced)[SPAN] = span;
    const ctx = trace.setSpan(parent, span);
    // A body is read in the socket's own callbacks: bind them, or the handler would run outside.
    if (req.method !== 'GET' && req.method !== 'HEAD') context.bind(ctx, req.raw);
    context.with(ctx, done);
  });
  fastify.addHook('onResponse', (req, reply, done) => {
    const span = (req as Traced)[SPAN];
    if (span?.isRecording()) {
      (req.raw.socket as TrackedSocket | null)?.[IN_FLIGHT]?.delete(span);
      const status = reply.statusCode;
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) {
        span.setAttribute('error.type', String(status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    }
    done();
  });
}
