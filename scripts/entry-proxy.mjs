#!/usr/bin/env node
// The local HTTPS entry point: host and path routes that mirror the Kubernetes ingress.
// ENTRY_ROUTES: JSON [{ "prefix": "/api", "upstream": "http://127.0.0.1:3001", "rewritePrefix": "/api" }, ...]
// ENTRY_HOSTS: comma-separated Host values it serves, as the ingress's host rule (default
//   localhost, 127.0.0.1 and [::1] at ENTRY_PORT); any other Host is 404, as ingress-nginx's default backend.
// ENTRY_BODY_LIMIT_BYTES: largest request body it accepts (default 32 MiB, above every service's own limit).
// ENTRY_HEADERS_TIMEOUT_MS / ENTRY_REQUEST_TIMEOUT_MS: the TLS handshake and the first request's
//   headers / the whole request must arrive within this (default 20 s / 60 s), else 408 and the connection is closed.
// ENTRY_KEEP_ALIVE_TIMEOUT_MS: an idle client connection is closed after this (default 5 s).
// ENTRY_MAX_CONNECTIONS: client connections open at once; more are dropped (default 512).
// ENTRY_BUFFER_BYTES: request body bytes held at once across all requests (default 256 MiB); past it, 503.
// ENTRY_UPSTREAM_TIMEOUT_MS: a service's headers, and each gap in its body, within this (default 60 s), else 504.
import { readFileSync } from 'node:fs';
import { Transform } from 'node:stream';
import Fastify from 'fastify';
import replyFrom from '@fastify/reply-from';

const routes = JSON.parse(process.env.ENTRY_ROUTES ?? '[]');
const port = Number(process.env.ENTRY_PORT ?? 8443);
const num = (name, def) => Number(process.env[name] ?? def);
const bodyLimit = num('ENTRY_BODY_LIMIT_BYTES', 32 * 1024 * 1024);
const hosts = new Set(
  (process.env.ENTRY_HOSTS ?? `localhost:${port},127.0.0.1:${port},[::1]:${port}`)
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean),
);
const upstreamTimeout = num('ENTRY_UPSTREAM_TIMEOUT_MS', 60_000);
const headersTimeout = num('ENTRY_HEADERS_TIMEOUT_MS', 20_000);
// What ingress-nginx adds on TLS hosts by default.
const HSTS = 'max-age=31536000; includeSubDomains';
// Only this proxy says who the client was and how it came: whatever a client sent under these
// names is dropped before the proxy's own values are added (a service trusts them from here).
const FORWARDING = /^(forwarded|x-forwarded-.*|x-real-ip|x-original-.*|x-rewrite-url)$/;
// Hop-by-hop headers (RFC 9110 §7.6.1) end here: the body is already read (`Expect: 100-continue`
// was answered), and undici refuses to send expect, keep-alive or upgrade (a 502 for a client
// such as curl that sends `Expect` with a large body).
const HOP_BY_HOP =
  /^(connection|keep-alive|proxy-connection|te|trailer|transfer-encoding|upgrade|expect|http2-settings)$/;

const app = Fastify({
  https: {
    cert: readFileSync(process.env.ENTRY_TLS_CERT),
    key: readFileSync(process.env.ENTRY_TLS_KEY),
    // Slow clients (slowloris headers, trickled bodies, a connection that never sends a request)
    // are cut off, as nginx's client timeouts do; Node checks these deadlines every
    // connectionsCheckingInterval (by default only every 30 s).
    headersTimeout,
    // A TCP connection that never finishes its TLS handshake (Node's default allows 120 s).
    handshakeTimeout: headersTimeout,
    connectionsCheckingInterval: 1000,
  },
  logger: { level: 'warn' },
  trustProxy: false,
  bodyLimit,
  // Fastify's default is no deadline at all for the request (0).
  requestTimeout: num('ENTRY_REQUEST_TIMEOUT_MS', 60_000),
  keepAliveTimeout: num('ENTRY_KEEP_ALIVE_TIMEOUT_MS', 5000),
  // The router's own refusals (a URL it cannot decode) skip every hook: the same headers and a
  // plain 400 here, without echoing the URL back.
  frameworkErrors: (_error, _req, reply) =>
    reply
      .code(400)
      .headers({ 'strict-transport-security': HSTS, 'x-content-type-options': 'nosniff' })
      .send({ statusCode: 400, error: 'Bad Request' }),
});
// Idle or slow connections each hold a socket and a TLS session: a cap keeps them bounded.
app.server.maxConnections = num('ENTRY_MAX_CONNECTIONS', 512);
const ALLOW = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';
// CONNECT is not a tunnel here: an answer, not a silently dropped socket.
app.server.on('connect', (_req, socket) => {
  socket.end(
    `HTTP/1.1 405 Method Not Allowed\r\nAllow: ${ALLOW}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
  );
});

// Bodies are read whole before they are forwarded, as nginx spools them: a service that refuses a
// body early (413 on Content-Length) then answers cleanly, instead of the proxy writing into a
// closed socket (EPIPE, a 500) and leaving the client's unread body on a keep-alive connection.
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
// Spooled bodies share one budget (nginx spools to disk; this proxy holds them in memory): many
// large uploads at once are 503 for the ones past it, not memory without bound.
const bufferBudget = num('ENTRY_BUFFER_BYTES', 256 * 1024 * 1024);
let buffered = 0;
app.addHook('preParsing', async (_req, reply, payload) => {
  let held = 0;
  // The body is released when its response is done (finished or aborted).
  reply.raw.once('close', () => {
    buffered -= held;
    held = 0;
  });
  return payload.pipe(
    new Transform({
      transform(chunk, _enc, cb) {
        if (buffered + chunk.length > bufferBudget)
          return cb(Object.assign(new Error('request buffer budget spent'), { statusCode: 503 }));
        buffered += chunk.length;
        held += chunk.length;
        cb(null, chunk);
      },
    }),
  );
});
// Bounded upstream sockets per service, each call with a deadline (504 beyond it).
await app.register(replyFrom, {
  undici: {
    connections: 64,
    pipelining: 1,
    headersTimeout: upstreamTimeout,
    bodyTimeout: upstreamTimeout,
  },
});
app.addHook('onSend', async (_req, reply) => {
  reply.header('strict-transport-security', HSTS);
  // The proxy's own answers (no route, refusals) too; a service's answer already says it.
  if (!reply.hasHeader('x-content-type-options')) reply.header('x-content-type-options', 'nosniff');
});

// What reaches here is the proxy's own refusal (a path reply-from will not forward: malformed
// percent-encoding, an encoded `..` segment): a 400, never a 500, as nginx answers a bad request.
app.setErrorHandler((error, _req, reply) => {
  const status =
    error instanceof URIError
      ? 400
      : (error.statusCode >= 400 && error.statusCode < 500) || error.statusCode === 503
        ? error.statusCode
        : 502;
  if (status === 502) app.log.error({ err: { name: error.name, code: error.code } }, 'proxy error');
  const text = { 502: 'Bad Gateway', 503: 'Service Unavailable' };
  return reply.code(status).send({ statusCode: status, error: text[status] ?? 'Bad Request' });
});

// Before anything is forwarded: a request the ingress would not route is refused here too.
app.addHook('onRequest', async (req, reply) => {
  // Origin-form only: absolute-form (`GET http://other/x`) and asterisk-form (`OPTIONS *`) targets
  // were glued onto the upstream URL (a 502); nginx answers them itself.
  if (!req.raw.url?.startsWith('/'))
    return reply.code(400).send({ statusCode: 400, error: 'Bad Request' });
  // TRACE echoes the request back, cookies and Authorization included, to whoever can make the
  // browser send one (cross-site tracing); nginx answers it 405 itself and so does this.
  if (req.raw.method === 'TRACE')
    return reply
      .code(405)
      .header('allow', ALLOW)
      .send({ statusCode: 405, error: 'Method Not Allowed' });
  // Two Host headers are a 400 (RFC 9112 §3.2, as nginx); Node would keep the first silently.
  let hostLines = 0;
  for (let i = 0; i < req.raw.rawHeaders.length; i += 2)
    if (req.raw.rawHeaders[i].toLowerCase() === 'host') hostLines++;
  if (hostLines > 1) return reply.code(400).send({ statusCode: 400, error: 'Bad Request' });
  // A Host outside the host rules reaches no service (services build URLs from X-Forwarded-Host).
  if (!hosts.has((req.headers.host ?? '').toLowerCase()))
    return reply.code(404).send({ error: 'no route' });
});

app.get('/healthz', async () => ({ status: 'ok' }));

/** The route an ingress with pathType Prefix picks: longest prefix whose path segments match. */
function routeOf(path) {
  let best;
  for (const r of routes) {
    const p = r.prefix.replace(/\/+$/, '');
    const hit = p === '' || path === p || path.startsWith(`${p}/`);
    if (hit && (!best || p.length > best.p.length)) best = { r, p };
  }
  return best;
}

app.all('/*', (req, reply) => {
  const sent = pathOf(req.url);
  // Routes match the path with runs of `/` merged, as nginx's merge_slashes (on in ingress-nginx):
  // `//api/x` is the /api route there, and was the portal's here.
  const path = sent.replace(/\/{2,}/g, '/');
  const hit = routeOf(path);
  if (!hit) return reply.code(404).send({ error: 'no route' });
  const rewrite = (hit.r.rewritePrefix ?? hit.r.prefix).replace(/\/+$/, '');
  // The path only: reply-from appends the request's query as received. (Given in the target, the
  // query went through its decodeURIComponent: `?x=%ff` was a 500 here, never reaching the service.)
  // Without a rewrite the path goes as sent, as nginx's proxy_pass without a URI passes it.
  const rest =
    rewrite === hit.p ? sent : `${rewrite}${path.slice(hit.p.length) || (rewrite ? '' : '/')}`;
  const target = `${hit.r.upstream.replace(/\/+$/, '')}${rest}`;
  const body = Buffer.isBuffer(req.body) ? req.body : undefined;
  return reply.from(target, {
    // Forward the bytes as received (never re-encoded), with their own content type.
    ...(body
      ? { body, contentType: req.headers['content-type'] ?? 'application/octet-stream' }
      : {}),
    // X-Forwarded-* so services build absolute URLs and set Secure cookies correctly.
    // An unreachable or failing service is the gateway's 502 (504 on a timeout), as nginx answers.
    onError: (r, { error }) => {
      const status = error.statusCode === 503 || error.statusCode === 504 ? error.statusCode : 502;
      r.code(status).send({
        statusCode: status,
        error: status === 504 ? 'Gateway Timeout' : 'Bad Gateway',
        message: `upstream ${hit.r.prefix} unavailable`,
      });
    },
    rewriteRequestHeaders: (_r, headers) => ({
      ...Object.fromEntries(
        Object.entries(headers).filter(
          ([name]) => !FORWARDING.test(name) && !HOP_BY_HOP.test(name),
        ),
      ),
      'x-forwarded-proto': 'https',
      // One of ENTRY_HOSTS (checked above), never a value the client picked freely.
      'x-forwarded-host': req.headers.host.toLowerCase(),
      'x-forwarded-for': req.ip,
    }),
  });
});

function pathOf(url) {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

await app.listen({ port, host: '127.0.0.1' });
const stop = () => app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
