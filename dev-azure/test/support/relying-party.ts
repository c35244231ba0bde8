// A tiny relying party for browser tests: serves the redirect URI on
// localhost over HTTPS and records what the identity provider sent back.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface Callback {
  code?: string;
  state?: string;
  error?: string;
  error_description?: string;
}

export interface RelyingParty {
  redirectUri: string;
  callbacks: Callback[];
  stop(): Promise<void>;
}

export async function startRelyingParty(tls: {
  certPem: string;
  keyPem: string;
}): Promise<RelyingParty> {
  const callbacks: Callback[] = [];
  const server: Server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://localhost');
    if (url.pathname !== '/auth/redirect') {
      res.writeHead(404).end();
      return;
    }
    const record = (params: URLSearchParams) => {
      callbacks.push(
        Object.fromEntries(
          ['code', 'state', 'error', 'error_description']
            .filter((k) => params.has(k))
            .map((k) => [k, params.get(k) ?? '']),
        ),
      );
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end('<!doctype html><title>Back at the app</title><h1 id="rpDone">Back at the app</h1>');
    };
    if (req.method === 'POST') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => record(new URLSearchParams(body)));
    } else {
      record(url.searchParams);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    redirectUri: `https://localhost:${port}/auth/redirect`,
    callbacks,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
