import type { IncomingMessage } from 'node:http';
import type { DynamicModule, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { LogController, type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { createRootLogger, PinoNestLogger, requestIdOf } from './logging/logger';
import { ConfigError } from './config/load-config';
import { observeHttpRequest } from './metrics/http-metrics';
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
  /** Peers whose X-Forwarded-* headers are believed (proxy-addr list); default loopback + private ranges. */
  trustProxy?: string[];
}

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
  const adapter = new FastifyAdapter({
    // Only the entry proxy / ingress may say what the client's address, host and scheme were.
    trustProxy: o.trustProxy ?? DEFAULT_TRUSTED_PROXIES,
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
    // The router's own refusals skip every hook (helmet, onSend): give them the locked-down headers
    // here, then the service's shape, else a plain { error, message } body.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      void reply.headers({ ...ROUTER_ERROR_HEADERS, 'x-request-id': String(request.id) });
      if (o.routerErrors?.(error, request, reply)) return;
      const status =
        error.statusCode && error.statusCode >= 400 && error.statusCode < 500
          ? error.statusCode
          : 400;
      void reply.code(status).send({
        error: 'invalid_request',
        message: status === 414 ? 'A URL parameter is too long' : 'The request URL is malformed',
      });
    },
  });
  const fastify = adapter.getInstance();
  // HTTP server spans named after the route template (`GET /policies/:id`) when tracing runs.
  traceServerRequests(fastify);
  // One line per request (probes excluded), with the request id echoed to the caller. Every
  // response declares its content type final (nosniff): API errors are never sniffed as HTML.
  // Caching is opt-in: a response that does not say otherwise (a SCIM resource, a page with the
  // caller's data) is never kept by a browser or a shared cache.
  fastify.addHook('onSend', async (req, reply) => {
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
