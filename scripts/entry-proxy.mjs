#!/usr/bin/env node
// The local HTTPS entry point: path routes that mirror the Kubernetes ingress.
// ENTRY_ROUTES: JSON [{ "prefix": "/api", "upstream": "http://127.0.0.1:3001", "rewritePrefix": "" }, ...]
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import proxy from '@fastify/http-proxy';

const routes = JSON.parse(process.env.ENTRY_ROUTES ?? '[]');
const app = Fastify({
  https: { cert: readFileSync(process.env.ENTRY_TLS_CERT), key: readFileSync(process.env.ENTRY_TLS_KEY) },
  logger: { level: 'warn' },
  trustProxy: false,
});
app.get('/healthz', async () => ({ status: 'ok' }));
// Longest prefix first, as an ingress controller matches.
for (const r of [...routes].sort((a, b) => b.prefix.length - a.prefix.length)) {
  await app.register(proxy, {
    upstream: r.upstream,
    prefix: r.prefix,
    rewritePrefix: r.rewritePrefix ?? r.prefix,
    // X-Forwarded-* so services build absolute URLs and set Secure cookies correctly.
    replyOptions: {
      rewriteRequestHeaders: (req, headers) => ({
        ...headers,
        'x-forwarded-proto': 'https',
        'x-forwarded-host': req.headers.host,
        'x-forwarded-for': req.ip,
      }),
    },
  });
}
await app.listen({ port: Number(process.env.ENTRY_PORT ?? 8443), host: '127.0.0.1' });
const stop = () => app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
