import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Module, Param } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';
import { createApp } from '../../src/bootstrap';
import { RedactingSpanProcessor } from '../../src/telemetry/redaction';
import { enableServerSpans } from '../../src/telemetry/server-spans';

// The HTTP SERVER spans of telemetry/server-spans.ts on a real socket: route-template name, the
// caller's W3C context, attributes, the handler running inside the span, and aborted requests.

let release: () => void = () => undefined;
let slowStarted = false;

@Controller()
class ItemsController {
  @Get('items/:id')
  item(@Param('id') id: string): { id: string; traceId?: string } {
    const child = trace.getTracer('test').startSpan('child');
    child.end();
    return { id, traceId: trace.getSpan(context.active())?.spanContext().traceId };
  }

  @Get('slow')
  async slow(): Promise<{ ok: true }> {
    slowStarted = true;
    await new Promise<void>((r) => (release = r));
    return { ok: true };
  }
}

@Module({ controllers: [ItemsController] })
class ItemsModule {}

describe('HTTP server spans', () => {
  const exporter = new InMemorySpanExporter();
  let app: NestFastifyApplication;
  let base: string;
  let port: number;

  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(
      new TracerProvider({
        spanProcessors: [new RedactingSpanProcessor(), new SimpleSpanProcessor({ exporter })],
      }),
    );
    enableServerSpans();
    app = await createApp(ItemsModule, { service: 'spans-test', logLevel: 'silent' });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.getHttpServer().address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await app?.close();
    trace.disable();
    context.disable();
    propagation.disable();
  });
  beforeEach(() => exporter.reset());

  const servers = (): ReadableSpan[] =>
    exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);
  const until = async <T>(f: () => T | undefined): Promise<T> => {
    for (let i = 0; i < 200; i++) {
      const v = f();
      if (v !== undefined) return v;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('timed out');
  };

  it('names the span by route template, continues the caller and runs the handler inside it', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const r = await fetch(`${base}/items/42?token=secret-value&x=1`, {
      headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` },
    });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { traceId?: string }).traceId).toBe(traceId);
    const server = await until(() => servers()[0]);
    expect(server.name).toBe('GET /items/:id');
    expect(server.spanContext().traceId).toBe(traceId);
    expect(server.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(server.attributes).toEqual({
      'http.request.method': 'GET',
      'http.route': '/items/:id',
      'url.scheme': 'http',
      'url.path': '/items/42',
      'url.query': 'token=REDACTED&x=REDACTED',
      'http.response.status_code': 200,
    });
    const child = exporter.getFinishedSpans().find((s) => s.name === 'child');
    expect(child?.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
  });

  it('starts its own trace for a request from outside (ingress / entry proxy): its traceparent (id and sampled flag) is not continued', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    for (const via of [{ 'x-forwarded-for': '203.0.113.9' }, { forwarded: 'for=203.0.113.9' }]) {
      exporter.reset();
      const r = await fetch(`${base}/items/7`, {
        headers: { ...via, traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      });
      expect(r.status).toBe(200);
      const server = await until(() => servers()[0]);
      expect(server.spanContext().traceId).not.toBe(traceId);
      expect(server.parentSpanContext).toBeUndefined();
      // The caller's context survives only as a link, for joining its trace to ours.
      expect(server.links.map((l) => [l.context.traceId, l.context.spanId])).toEqual([
        [traceId, '00f067aa0ba902b7'],
      ]);
      expect(((await r.json()) as { traceId?: string }).traceId).toBe(server.spanContext().traceId);
    }
    // A malformed traceparent from outside is not a link either.
    exporter.reset();
    const r = await fetch(`${base}/items/7`, {
      headers: {
        'x-forwarded-for': '203.0.113.9',
        traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`,
      },
    });
    expect(r.status).toBe(200);
    expect((await until(() => servers()[0])).links).toEqual([]);
  });

  it('ends the span of a request whose client went away before the answer (error.type aborted)', async () => {
    const socket = connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => (slowStarted ? true : undefined));
    socket.destroy();
    const server = await until(() => servers()[0]);
    expect(server.name).toBe('GET /slow');
    expect(server.attributes['error.type']).toBe('aborted');
    expect(server.attributes['http.response.status_code']).toBeUndefined();
    release();
    // Answering afterwards neither ends it twice nor adds a second span.
    await new Promise((r) => setTimeout(r, 50));
    expect(servers()).toHaveLength(1);
  });

  it('traces several requests on one keep-alive connection, one span each', async () => {
    for (const id of ['1', '2', '3']) expect((await fetch(`${base}/items/${id}`)).status).toBe(200);
    const spans = await until(() => (servers().length === 3 ? servers() : undefined));
    expect(spans.map((s) => s.attributes['url.path'])).toEqual([
      '/items/1',
      '/items/2',
      '/items/3',
    ]);
    expect(spans.every((s) => s.attributes['error.type'] === undefined)).toBe(true);
    // No trace context sent: each request starts its own trace.
    expect(spans.every((s) => s.parentSpanContext === undefined)).toBe(true);
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(3);
  });

  it('does not trace probes', async () => {
    await fetch(`${base}/healthz`);
    await fetch(`${base}/items/9`);
    await until(() => servers()[0]);
    expect(servers().map((s) => s.name)).toEqual(['GET /items/:id']);
  });
});
