#!/usr/bin/env node
// The local HTTPS entry point: path routes that mirror the Kubernetes ingress.
// ENTRY_ROUTES: JSON [{ "prefix": "/api", "upstream": "http://127.0.0.1:3001", "rewritePrefix": "/api" }, ...]
// ENTRY_BODY_LIMIT_BYTES: largest request body it accepts (default 32 MiB, above every service's own limit).
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import replyFrom from '@fastify/reply-from';

const routes = JSON.parse(process.env.ENTRY_ROUTES ?? '[]');
const bodyLimit = Number(process.env.ENTRY_BODY_LIMIT_BYTES ?? 32 * 1024 * 1024);
// What ingress-nginx adds on TLS hosts by default.
const HSTS = 'max-age=31536000; includeSubDomains';

const app = Fastify({
  https: {
    cert: readFileSync(process.env.ENTRY_TLS_CERT),
    key: readFileSync(process.env.ENTRY_TLS_KEY),
  },
  logger: { level: 'warn' },
  trustProxy: false,
  bodyLimit,
});
// Bodies are read whole before they are forwarded, as nginx spools them: a service that refuses a
// body early (413 on Content-Length) then answers cleanly, instead of the proxy writing into a
// closed socket (EPIPE, a 500) and leaving the client's unread body on a keep-alive connection.
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
await app.register(replyFrom, { undici: { connections: 64, pipelining: 1 } });
app.addHook('onSend', async (_req, reply) => {
  reply.header('strict-transport-security', HSTS);
});

// What reaches here is the proxy's own refusal (a path reply-from will not forward: malformed
// percent-encoding, an encoded `..` segment): a 400, never a 500, as nginx answers a bad request.
app.setErrorHandler((error, _req, reply) => {
  const status =
    error instanceof URIError
      ? 400
      : error.statusCode >= 400 && error.statusCode < 500
        ? error.statusCode
        : 502;
  if (status === 502) app.log.error({ err: { name: error.name, code: error.code } }, 'proxy error');
  return reply
    .code(status)
    .send({ statusCode: status, error: status === 502 ? 'Bad Gateway' : 'Bad Request' });
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
  const path = pathOf(req.url);
  const hit = routeOf(path);
  if (!hit) return reply.code(404).send({ error: 'no route' });
  const rewrite = (hit.r.rewritePrefix ?? hit.r.prefix).replace(/\/+$/, '');
  // The path only: reply-from appends the request's query as received. (Given in the target, the
  // query went through its decodeURIComponent: `?x=%ff` was a 500 here, never reaching the service.)
  const target = `${hit.r.upstream.replace(/\/+$/, '')}${rewrite}${path.slice(hit.p.length) || (rewrite ? '' : '/')}`;
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
      ...headers,
      'x-forwarded-proto': 'https',
      'x-forwarded-host': req.headers.host,
      'x-forwarded-for': req.ip,
    }),
  });
});

function pathOf(url) {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

await app.listen({ port: Number(process.env.ENTRY_PORT ?? 8443), host: '127.0.0.1' });
const stop = () => app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
