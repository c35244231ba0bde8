// A minimal HTTPS front (the ingress's role): TLS with the dev CA's localhost
// certificate, X-Forwarded-* headers, everything else passed through.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';

export interface HttpsProxy {
  url: string;
  port: number;
  /** Where requests go (set once the upstream is known). */
  target: string;
  close(): Promise<void>;
}

export async function startHttpsProxy(): Promise<HttpsProxy> {
  const ca = process.env.NODE_EXTRA_CA_CERTS;
  if (!ca) throw new Error('NODE_EXTRA_CA_CERTS is not set: run through `node ../../scripts/with-dev-ca.mjs jest`.');
  const dir = dirname(ca);
  const proxy: HttpsProxy = { url: '', port: 0, target: '', close: async () => undefined };
  const server: Server = createServer({ cert: readFileSync(join(dir, 'server.pem')), key: readFileSync(join(dir, 'server.key.pem')) }, (req, res) => {
    const target = new URL(req.url ?? '/', proxy.target);
    const upstream = httpRequest(
      target,
      {
        method: req.method,
        headers: { ...req.headers, 'x-forwarded-proto': 'https', 'x-forwarded-host': req.headers.host ?? '', 'x-forwarded-for': req.socket.remoteAddress ?? '' },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end('bad gateway');
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  proxy.port = (server.address() as AddressInfo).port;
  proxy.url = `https://localhost:${proxy.port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
