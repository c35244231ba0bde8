// The local HTTPS entry point (scripts/entry-proxy.mjs) against HTTP-level abuse: Host and
// forwarding-header spoofing, request targets and framings an ingress refuses, slow and idle
// clients, a connection flood and a service that never answers. Raw TLS sockets, so nothing
// is normalised by a client library on the way.
import { createConnection, type Socket } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  freePort,
  rawExchange,
  startNode,
  waitForHttp,
  type RawOutcome,
  type RunningProcess,
} from '@idp/testing';

const root = join(__dirname, '..', '..');
const caDir = process.env.DEV_CA_DIR ?? join(root, '.dev', 'ca');

/** Writes raw bytes over TLS, then collects the answer until the proxy closes or `waitMs` passes. */
const raw = (port: number, data: string, waitMs = 4000): Promise<RawOutcome> =>
  rawExchange(port, data, { waitMs, tlsServername: 'localhost' });

const statuses = (text: string) => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
const bodyOf = (text: string) => text.slice(text.indexOf('\r\n\r\n') + 4);

describe('local HTTPS entry point under abuse', () => {
  let upstream: FastifyInstance;
  const seen: { url: string; headers: Record<string, unknown> }[] = [];
  let entry: RunningProcess;
  let port: number;
  let host: string;

  beforeAll(async () => {
    upstream = Fastify();
    upstream.get('/api/hang', () => new Promise(() => undefined));
    upstream.post('/api/slow', () => new Promise((r) => setTimeout(() => r({ slow: true }), 600)));
    upstream.all('/*', async (req) => {
      seen.push({ url: req.url, headers: req.headers });
      return { url: req.url, headers: req.headers };
    });
    await upstream.listen({ port: 0, host: '127.0.0.1' });
    const addr = upstream.server.address();
    const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    port = await freePort();
    host = `localhost:${port}`;
    entry = startNode(join(root, 'scripts', 'entry-proxy.mjs'), {
      ENTRY_PORT: String(port),
      ENTRY_TLS_CERT: join(caDir, 'server.pem'),
      ENTRY_TLS_KEY: join(caDir, 'server.key.pem'),
      ENTRY_ROUTES: JSON.stringify([
        { prefix: '/api', upstream: url },
        { prefix: '/', upstream: url },
      ]),
      ENTRY_HEADERS_TIMEOUT_MS: '800',
      ENTRY_REQUEST_TIMEOUT_MS: '1500',
      ENTRY_KEEP_ALIVE_TIMEOUT_MS: '500',
      ENTRY_UPSTREAM_TIMEOUT_MS: '1000',
      ENTRY_MAX_CONNECTIONS: '8',
      ENTRY_BUFFER_BYTES: String(100 * 1024),
    });
    await waitForHttp(`https://localhost:${port}/healthz`, { proc: entry });
  });
  afterAll(async () => {
    await entry?.stop();
    await upstream?.close();
  });
  beforeEach(() => (seen.length = 0));

  it('serves only its own Host names, and a duplicate Host is a 400', async () => {
    for (const h of ['evil.example', `evil.example:${port}`, 'localhost', `localhost.:${port}`]) {
      const r = await raw(port, `GET /api/x HTTP/1.1\r\nHost: ${h}\r\nConnection: close\r\n\r\n`);
      expect({ h, status: statuses(r.text)[0] }).toEqual({ h, status: '404' });
    }
    const none = await raw(port, 'GET /api/x HTTP/1.0\r\n\r\n');
    expect(statuses(none.text)).toEqual(['404']);
    const two = await raw(
      port,
      `GET /api/x HTTP/1.1\r\nHost: ${host}\r\nHost: evil.example\r\nConnection: close\r\n\r\n`,
    );
    expect(statuses(two.text)).toEqual(['400']);
    expect(seen).toEqual([]);
    // Host names are case-insensitive.
    const upper = await raw(
      port,
      `GET /api/x HTTP/1.1\r\nHost: LOCALHOST:${port}\r\nConnection: close\r\n\r\n`,
    );
    expect(statuses(upper.text)).toEqual(['200']);
  });

  it('replaces every forwarding header a client sent with its own', async () => {
    const r = await raw(
      port,
      [
        'GET /api/x HTTP/1.1',
        `Host: ${host}`,
        'X-Forwarded-Host: evil.example',
        'X-Forwarded-Proto: http',
        'X-Forwarded-For: 10.0.0.1',
        'X-Forwarded-Port: 1',
        'X-Forwarded-Prefix: /evil',
        'Forwarded: for=10.0.0.1;host=evil.example;proto=http',
        'X-Real-IP: 10.0.0.1',
        'X-Original-URL: /metrics',
        'Connection: close',
        '',
        '',
      ].join('\r\n'),
    );
    expect(statuses(r.text)).toEqual(['200']);
    const headers = (JSON.parse(bodyOf(r.text)) as { headers: Record<string, string> }).headers;
    expect(headers).toMatchObject({
      'x-forwarded-host': host,
      'x-forwarded-proto': 'https',
      'x-forwarded-for': '127.0.0.1',
    });
    for (const name of [
      'x-forwarded-port',
      'x-forwarded-prefix',
      'forwarded',
      'x-real-ip',
      'x-original-url',
    ])
      expect({ name, value: headers[name] }).toEqual({ name, value: undefined });
  });

  it('refuses absolute-form and asterisk-form targets with 400 and CONNECT with 405, reaching no service', async () => {
    for (const line of [
      'GET http://evil.example/metrics HTTP/1.1',
      `GET https://${host}/api/x HTTP/1.1`,
      'OPTIONS * HTTP/1.1',
    ]) {
      const r = await raw(port, `${line}\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      expect({ line, status: statuses(r.text)[0] }).toEqual({ line, status: '400' });
    }
    const tunnel = await raw(port, `CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n`);
    expect(statuses(tunnel.text)).toEqual(['405']);
    expect(tunnel.closed).toBe(true);
    expect(seen).toEqual([]);
  });

  it('answers TRACE itself with 405, echoing nothing and reaching no service (cross-site tracing)', async () => {
    const r = await raw(
      port,
      `TRACE /api/x HTTP/1.1\r\nHost: ${host}\r\nCookie: session=secret-cookie\r\nAuthorization: Bearer secret-token\r\nConnection: close\r\n\r\n`,
    );
    expect(statuses(r.text)).toEqual(['405']);
    expect(r.text).toMatch(/\r\nallow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\n/i);
    expect(r.text).not.toMatch(/secret-cookie|secret-token/);
    expect(seen).toEqual([]);
  });

  it('refuses request headers past 16 KiB (one huge header, a huge target, thousands of them) with 431, reaching no service', async () => {
    for (const [what, request] of [
      ['one header', `GET /api/x HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${'a'.repeat(20_000)}\r\n`],
      ['the target', `GET /api/${'a'.repeat(20_000)} HTTP/1.1\r\nHost: ${host}\r\n`],
      [
        'many headers',
        `GET /api/x HTTP/1.1\r\nHost: ${host}\r\n${Array.from({ length: 3000 }, (_, i) => `X-${i}: v\r\n`).join('')}`,
      ],
    ] as const) {
      const r = await raw(port, `${request}Connection: close\r\n\r\n`);
      expect({ what, status: statuses(r.text)[0] }).toEqual({ what, status: '431' });
    }
    expect(seen).toEqual([]);
  });

  it('refuses smuggling framings and never forwards the smuggled request', async () => {
    for (const framing of [
      'Content-Length: 4\r\nTransfer-Encoding: chunked\r\n',
      'Content-Length: 4\r\nContent-Length: 40\r\n',
      'Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n',
      'X-Folded: a\r\n b\r\n',
    ]) {
      const r = await raw(
        port,
        `POST /api/x HTTP/1.1\r\nHost: ${host}\r\n${framing}\r\n0\r\n\r\nGET /api/smuggled HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      );
      expect({ framing, statuses: statuses(r.text) }).toEqual({ framing, statuses: ['400'] });
    }
    expect(seen).toEqual([]);
  });

  it('answers pipelined requests in order, each once', async () => {
    const r = await raw(
      port,
      `GET /api/a HTTP/1.1\r\nHost: ${host}\r\n\r\nGET /api/b HTTP/1.1\r\nHost: ${host}\r\n\r\nGET /c HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
    );
    expect(statuses(r.text)).toEqual(['200', '200', '200']);
    expect(seen.map((s) => s.url)).toEqual(['/api/a', '/api/b', '/c']);
  });

  it('cuts off slow headers and slow bodies with 408, and closes idle connections', async () => {
    const headers = await raw(port, `GET /api/x HTTP/1.1\r\nHost: ${host}\r\nX-A: 1\r\n`, 6000);
    expect(statuses(headers.text)).toEqual(['408']);
    expect(headers.ms).toBeLessThan(4000);
    const body = await raw(
      port,
      `POST /api/x HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{`,
      6000,
    );
    expect(statuses(body.text)).toEqual(['408']);
    expect(body.ms).toBeLessThan(4000);
    const idle = await raw(port, `GET /api/x HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 6000);
    expect(statuses(idle.text)).toEqual(['200']);
    expect(idle.closed).toBe(true);
    expect(idle.ms).toBeLessThan(4000);
    expect(seen.map((s) => s.url)).toEqual(['/api/x']);
  });

  it('closes connections that never send a request, before or after the TLS handshake', async () => {
    const started = Date.now();
    const tcp = createConnection({ port, host: '127.0.0.1' });
    tcp.on('error', () => undefined);
    const tlsIdle = connect({ port, host: '127.0.0.1', servername: 'localhost' });
    tlsIdle.on('error', () => undefined);
    // The proxy's FIN ('end') is what counts: a TLS client may keep its own half open.
    const closedAfter = (s: TLSSocket | Socket) =>
      new Promise<number>((r) => {
        s.once('end', () => r(Date.now() - started));
        s.resume();
        s.once('close', () => r(Date.now() - started));
      });
    const [tcpMs, tlsMs] = await Promise.all([closedAfter(tcp), closedAfter(tlsIdle)]);
    expect(tcpMs).toBeLessThan(4000);
    expect(tlsMs).toBeLessThan(4000);
  });

  it('answers 504 when a service never answers, without hanging', async () => {
    const r = await raw(
      port,
      `GET /api/hang HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
    );
    expect(statuses(r.text)).toEqual(['504']);
    expect(r.ms).toBeLessThan(3500);
  });

  it('holds at most ENTRY_MAX_CONNECTIONS client connections and serves again once they go', async () => {
    const idle: TLSSocket[] = [];
    try {
      for (let i = 0; i < 8; i++) {
        const s = connect({ port, host: '127.0.0.1', servername: 'localhost' });
        s.on('error', () => undefined);
        await new Promise((r) => s.once('secureConnect', r));
        idle.push(s);
      }
      const over = await raw(port, `GET /api/x HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 3000);
      expect(over.text).toBe('');
      expect(over.closed).toBe(true);
    } finally {
      for (const s of idle) s.destroy();
    }
    await new Promise((r) => setTimeout(r, 200));
    const after = await raw(
      port,
      `GET /api/x HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
    );
    expect(statuses(after.text)).toEqual(['200']);
  });

  it('never lets a path trick reach outside its route', async () => {
    for (const path of [
      '/api/../metrics',
      '/api/%2e%2e/metrics',
      '/api/%2E%2E%2Fmetrics',
      '/api%2f..%2fmetrics',
      '/api/..%5cmetrics',
      '/api/.%2e/metrics',
    ]) {
      const r = await raw(
        port,
        `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      );
      expect({ path, status: statuses(r.text)[0] }).toEqual({ path, status: '400' });
    }
    expect(seen).toEqual([]);
  });

  it('holds request bodies up to ENTRY_BUFFER_BYTES at once: a body past it is 503, and the budget comes back', async () => {
    const body = JSON.stringify({ a: 'x'.repeat(70 * 1024) });
    const post = (path: string) =>
      raw(
        port,
        `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      );
    const held = post('/api/slow');
    await new Promise((r) => setTimeout(r, 250));
    const refused = await post('/api/x');
    expect(statuses(refused.text)).toEqual(['503']);
    expect(statuses((await held).text)).toEqual(['200']);
    expect(statuses((await post('/api/x')).text)).toEqual(['200']);
  });

  it('forwards no hop-by-hop header a client sent, and none of them turns into a 502', async () => {
    for (const extra of [
      'Expect: 100-continue',
      'Keep-Alive: timeout=999',
      'Proxy-Connection: keep-alive',
      'TE: trailers',
      'Trailer: X-T',
      'Upgrade: h2c',
    ]) {
      const r = await raw(
        port,
        `POST /api/x HTTP/1.1\r\nHost: ${host}\r\n${extra}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
      );
      // Expect: 100-continue gets its interim 100 first.
      expect({ extra, status: statuses(r.text).filter((s) => s !== '100') }).toEqual({
        extra,
        status: ['200'],
      });
      const headers = (
        JSON.parse(bodyOf(r.text.replace(/^HTTP\/1\.1 100[^]*?\r\n\r\n/, ''))) as {
          headers: Record<string, string>;
        }
      ).headers;
      const name = extra.split(':')[0]!.toLowerCase();
      expect({ name, value: headers[name] }).toEqual({ name, value: undefined });
    }
  });

  it('gives its own answers HSTS and nosniff, and echoes nothing a client sent', async () => {
    for (const [line, status] of [
      ['GET /api/%c0%ae%c0%ae/metrics HTTP/1.1', '400'],
      ['GET /api/%2e%2e/x HTTP/1.1', '400'],
      ['OPTIONS * HTTP/1.1', '400'],
    ] as const) {
      const r = await raw(port, `${line}\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      expect({ line, status: statuses(r.text)[0] }).toEqual({ line, status });
      expect(r.text).toMatch(/strict-transport-security: max-age=31536000; includeSubDomains/i);
      expect(r.text).toMatch(/x-content-type-options: nosniff/i);
      expect(bodyOf(r.text)).not.toMatch(/metrics|%2e|%c0/i);
    }
    const unknownHost = await raw(
      port,
      'GET /x HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n',
    );
    expect(statuses(unknownHost.text)).toEqual(['404']);
    expect(unknownHost.text).toMatch(/x-content-type-options: nosniff/i);
    expect(seen).toEqual([]);
  });
});
