import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { DynamicModule, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { createRootLogger, PinoNestLogger, requestIdOf } from './logging/logger';
import { ConfigError } from './config/load-config';
import { httpRequests, observeHttpRequest, UNMATCHED_ROUTE } from './metrics/http-metrics';
import { shutdownTelemetry } from './telemetry/lifecycle';
import { traceServerRequests } from './telemetry/server-spans';
import { saneHeaderValues } from './http/header-values';
import { DEFAULT_HTTP_LIMITS, DEFAULT_TRUSTED_PROXIES, type HttpLimits } from './http/limits';

export interface CreateAppOptions {
  service?: string;
  logLevel?: string;
  /** Fastify body limit in bytes (default 1 MiB). */
  bodyLimit?: number;
  /**
   * Answers the router's own refusals (malformed URL 400, over-long parameter 414), which reach
   * neither hooks nor Nest's exception layer; returns false to leave one to the default answer.
   */
  routerErrors?: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => boolean;
  /** Rewrites a request URL before routing (e.g. case-insensitive path segments); query kept by the caller. */
  rewriteUrl?: (url: string) => string;
  /** Server deadlines and sizes (see http/limits.ts); tests shorten them. */
  limits?: Partial<HttpLimits>;
  /**
   * Peers whose X-Forwarded-* headers are believed (proxy-addr list; empty: nobody); default
   * loopback + private ranges. bootService passes the service's TRUSTED_PROXIES.
   */
  trustProxy?: string[];
}

const DUPLICATE_HOST = Object.assign(new Error('The request has more than one Host header'), {
  statusCode: 400,
  code: 'IDP_DUPLICATE_HOST',
}) as FastifyError;
const QUIET = new Set(['/healthz', '/readyz', '/metrics']);
const ROUTER_ERROR_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cache-control': 'no-store',
};

/** Builds the Nest application on the Fastify adapter with pino as its logger. Not listening yet. */
export async function createApp(
  module: DynamicModule | Type,
  o: CreateAppOptions = {},
): Promise<NestFastifyApplication> {
  const logger = createRootLogger(o.service ?? 'service', o.logLevel ?? 'info');
  const limits = { ...DEFAULT_HTTP_LIMITS, ...o.limits };
  const trustProxy = o.trustProxy ?? DEFAULT_TRUSTED_PROXIES;
  // Refusals before routing (the router's own, which skip every hook; a duplicate Host, answered
  // before helmet's hooks run) get the locked-down headers here, then the service's error shape
  // (routerErrors), else a plain { error, message } body.
  const refuse = (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    void reply.headers({ ...ROUTER_ERROR_HEADERS, 'x-request-id': String(request.id) });
    if (o.routerErrors?.(error, request, reply)) return;
    const status =
      error.statusCode && error.statusCode >= 400 && error.statusCode < 500
        ? error.statusCode
        : 400;
    void reply.code(status).send({
      error: 'invalid_request',
      message:
        error === DUPLICATE_HOST
          ? error.message
          : status === 414
            ? 'A URL parameter is too long'
            : 'The request URL is malformed',
    });
  };
  const adapter = new FastifyAdapter({
    // Only the entry proxy / ingress may say what the client's address, host and scheme were.
    trustProxy: trustProxy.length > 0 ? trustProxy : false,
    bodyLimit: o.bodyLimit ?? 1024 * 1024,
    // Fastify's defaults leave requests without a deadline (0): a slow body held a socket forever.
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      connectionsCheckingInterval: limits.checkIntervalMs,
      maxHeaderSize: limits.maxHeaderSize,
    },
    loggerInstance: logger,
    // Fastify's own per-request lines are replaced by the single onResponse line below.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: requestIdOf,
    ...(o.rewriteUrl
      ? { rewriteUrl: (req: IncomingMessage) => o.rewriteUrl!(req.url ?? '/') }
      : {}),
    frameworkErrors: refuse,
    clientErrorHandler(this: FastifyInstance, err: NodeJS.ErrnoException, socket: Socket) {
      refuseUnparsed(this.log, err, socket);
    },
  });
  const fastify = adapter.getInstance();
  // Node keeps the first of two Host headers; the ingress and the entry proxy answer 400, so a
  // client reaching a pod directly must not get a different reading (which host, which tenant).
  // A callback hook and a plain loop: this runs on every request.
  fastify.addHook('onRequest', (req, reply, done) => {
    if (hostLines(req.raw.rawHeaders) > 1) {
      void reply.header('connection', 'close');
      refuse(DUPLICATE_HOST, req, reply);
      return;
    }
    done();
  });
  // Node destroys the socket of a CONNECT nobody listens for: answer it instead, as the proxies do.
  fastify.server.on('connect', refuseConnect);
  // HTTP server spans named after the route template (`GET /policies/:id`) when tracing runs.
  traceServerRequests(fastify);
  // One line per request (probes excluded), with the request id echoed to the caller. Every
  // response declares its content type final (nosniff): API errors are never sniffed as HTML.
  // Caching is opt-in: a response that does not say otherwise (a SCIM resource, a page with the
  // caller's data) is never kept by a browser or a shared cache.
  // A response sent once the server is closing ends its keep-alive connection: Node's close only
  // ends connections idle when it starts, so one carrying a request in flight then held the
  // close for the keep-alive timeout (72 s, past SHUTDOWN_TIMEOUT_MS) after its response.
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  fastify.addHook('onSend', async (req, reply) => {
    if (closing) reply.header('connection', 'close');
    saneHeaderValues(reply, req.log);
    reply.header('x-request-id', req.id);
    reply.header('x-content-type-options', 'nosniff');
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
  });
  fastify.addHook('onResponse', async (req, reply) => {
    const path = req.url.split('?', 1)[0] ?? '';
    if (QUIET.has(path)) return;
    observeHttpRequest(
      req.method,
      req.routeOptions.url,
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    const level = reply.statusCode >= 500 ? 'error' : reply.statusCode >= 400 ? 'warn' : 'info';
    req.log[level](
      { req: req.raw, res: { statusCode: reply.statusCode }, ms: Math.round(reply.elapsedTime) },
      'request completed',
    );
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(new PinoNestLogger(logger));
  app.flushLogs();
  return app;
}

/**
 * Requests Node's parser refuses (smuggling framings, bad header characters, headers over the
 * limit, a request not finished in time) reach no route, hook or Nest handler. Fastify's default
 * answered them bare (no nosniff, no request id), logged nothing above trace and they were in no
 * metric, so a slowloris or a smuggling probe left no trace. Same status and body as Fastify's,
 * the locked-down headers, one warn line (the parser's error code, never the bytes) and the
 * request counter (method OTHER, route unmatched: the request line may not even be read yet).
 * A connection that sent nothing at all (a port scan, a TCP check) still gets its 408 quietly.
 */
function refuseUnparsed(
  logger: FastifyBaseLogger,
  err: NodeJS.ErrnoException,
  socket: Socket,
): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Client Timeout']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Exceeded maximum allowed HTTP header size']
        : [400, 'Client Error'];
  const id = randomUUID();
  if (socket.bytesRead > 0) {
    httpRequests.inc({ method: 'OTHER', route: UNMATCHED_ROUTE, status_code: String(status) });
    logger.warn(
      { reqId: id, res: { statusCode: status }, code: err.code ?? 'unknown' },
      'request refused by the HTTP parser',
    );
  }
  if (socket.writable) {
    const body = JSON.stringify({ error: STATUS_CODES[status], message, statusCode: status });
    socket.write(
      [
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
        ...Object.entries(ROUTER_ERROR_HEADERS).map(([k, v]) => `${k}: ${v}`),
        `x-request-id: ${id}`,
        'Content-Type: application/json',
        `Content-Length: ${Buffer.byteLength(body)}`,
        'Connection: close',
        '',
        body,
      ].join('\r\n'),
    );
  }
  socket.destroy(err);
}

/** How many Host field lines a request has (rawHeaders: name, value, name, value, ...). */
function hostLines(raw: string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && (name === 'Host' || name === 'host' || name.toLowerCase() === 'host'))
      n++;
  }
  return n;
}

const CONNECT_REFUSAL = [
  'HTTP/1.1 405 Method Not Allowed',
  'Allow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS',
  ...Object.entries(ROUTER_ERROR_HEADERS).map(([k, v]) => `${k}: ${v}`),
  'Content-Length: 0',
  'Connection: close',
  '',
  '',
].join('\r\n');

/**
 * A CONNECT's socket is handed over without Node's error and timeout handling: answer 405, close,
 * and never let a reset on it reach the process as an unhandled 'error'.
 */
function refuseConnect(_req: IncomingMessage, socket: Duplex): void {
  socket.on('error', () => socket.destroy());
  socket.end(CONNECT_REFUSAL);
  // A client that never reads the answer does not keep the socket.
  setTimeout(() => socket.destroy(), 5_000).unref();
}

export interface BootOptions<C extends { PORT: number; SHUTDOWN_TIMEOUT_MS: number }> {
  name: string;
  loadConfig: () => C;
  module: (config: C) => DynamicModule | Type;
  configure?: (app: NestFastifyApplication, config: C) => void | Promise<void>;
  appOptions?: CreateAppOptions;
}

/**
 * The one way a service starts: validate config (exit 1 naming each bad variable), build the
 * app, listen, and on SIGTERM drain within SHUTDOWN_TIMEOUT_MS (HTTP, then NATS, then DB).
 */
export async function bootService<C extends { PORT: number; SHUTDOWN_TIMEOUT_MS: number }>(
  o: BootOptions<C>,
): Promise<NestFastifyApplication> {
  let config: C;
  try {
    config = o.loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`${o.name}: refusing to start.\n${e.message}`);
      process.exit(1);
    }
    throw e;
  }
  const app = await createApp(o.module(config), {
    service: o.name,
    logLevel: (config as { LOG_LEVEL?: string }).LOG_LEVEL,
    trustProxy: (config as { TRUSTED_PROXIES?: string[] }).TRUSTED_PROXIES,
    ...o.appOptions,
  });
  await o.configure?.(app, config);
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      // The backstop if something hangs; a clean drain exits 0.
      setTimeout(() => process.exit(1), config.SHUTDOWN_TIMEOUT_MS).unref();
      // app.close runs the Nest hooks in order: readiness off, HTTP drained, NATS drained, DB closed.
      // Queued spans are flushed last, after the drain (bounded by shutdownTelemetry's own timeout).
      app.close().then(
        () => shutdownTelemetry().then(() => process.exit(0)),
        () => shutdownTelemetry().then(() => process.exit(1)),
      );
    });
  }
  await app.listen({ port: config.PORT, host: '0.0.0.0' });
  return app;
}
