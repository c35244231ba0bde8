// The local HTTPS entry point (scripts/entry-proxy.mjs) from the outside: ingress-style prefix
// routing, bytes forwarded as sent, a service's own refusal of a large body passed through with the
// keep-alive connection still usable, and HSTS as ingress-nginx adds it.
import { createHash } from 'node:crypto';
import { request, Agent } from 'node:https';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { freePort, startNode, waitForHttp, type RunningProcess } from '@idp/testing';

const root = join(__dirname, '..', '..');
const caDir = process.env.DEV_CA_DIR ?? join(root, '.dev', 'ca');

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  socket: unknown;
}

/** One HTTPS request on a given agent; resolves with the socket it used, so reuse can be checked. */
function send(
  agent: Agent,
  port: number,
  path: string,
  o: { method?: string; body?: Buffer; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        servername: 'localhost',
        port,
        path,
        method: o.method ?? 'GET',
        agent,
        headers: { ...(o.body ? { 'content-length': String(o.body.length) } : {}), ...o.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            socket: req.socket,
          }),
        );
      },
    );
    req.setTimeout(15_000, () => req.destroy(new Error(`no answer for ${path} within 15 s`)));
    req.on('error', reject);
    req.end(o.body);
  });
}

/** A stand-in service: Fastify with a small body limit, answering its 413 in its own shape. */
async function upstream(
  name: string,
  bodyLimit: number,
): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify({ bodyLimit });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.setErrorHandler((e: { statusCode?: number; code?: string }, _req, reply) =>
    reply.code(e.statusCode ?? 500).send({ service: name, refused: e.code }),
  );
  app.all('/*', async (req) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    return {
      service: name,
      url: req.url,
      bytes: body.length,
      sha: createHash('sha256').update(body).digest('hex'),
      contentType: req.headers['content-type'] ?? null,
      proto: req.headers['x-forwarded-proto'] ?? null,
      host: req.headers['x-forwarded-host'] ?? null,
    };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  return { app, url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}` };
}

describe('local HTTPS entry point', () => {
  let api: Awaited<ReturnType<typeof upstream>>;
  let portal: Awaited<ReturnType<typeof upstream>>;
  let entry: RunningProcess;
  let port: number;

  beforeAll(async () => {
    api = await upstream('api', 1024);
    portal = await upstream('portal', 64 * 1024);
    port = await freePort();
    entry = startNode(join(root, 'scripts', 'entry-proxy.mjs'), {
      ENTRY_PORT: String(port),
      ENTRY_TLS_CERT: join(caDir, 'server.pem'),
      ENTRY_TLS_KEY: join(caDir, 'server.key.pem'),
      ENTRY_BODY_LIMIT_BYTES: String(4 * 1024 * 1024),
      ENTRY_ROUTES: JSON.stringify([
        { prefix: '/api', upstream: api.url, rewritePrefix: '' },
        { prefix: '/', upstream: portal.url },
      ]),
    });
    await waitForHttp(`https://localhost:${port}/healthz`, { proc: entry });
  });
  afterAll(async () => {
    await entry?.stop();
    await api?.app.close();
    await portal?.app.close();
  });

  it('routes by path prefix as an ingress does, rewriting only where told', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const a = JSON.parse((await send(agent, port, '/api/policies/me?x=1')).body);
    expect(a).toMatchObject({
      service: 'api',
      url: '/policies/me?x=1',
      proto: 'https',
      host: `127.0.0.1:${port}`,
    });
    expect(JSON.parse((await send(agent, port, '/api')).body)).toMatchObject({
      service: 'api',
      url: '/',
    });
    // /apix is not under /api.
    expect(JSON.parse((await send(agent, port, '/apix/y')).body)).toMatchObject({
      service: 'portal',
      url: '/apix/y',
    });
    expect(JSON.parse((await send(agent, port, '/')).body)).toMatchObject({
      service: 'portal',
      url: '/',
    });
    agent.destroy();
  });

  it('routes on the path with repeated slashes merged, as ingress-nginx does (merge_slashes), and forwards it as sent where it does not rewrite', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    // `//api/...` is the /api route behind ingress-nginx; it must not land on the portal here.
    expect(JSON.parse((await send(agent, port, '//api//policies/me?x=1')).body)).toMatchObject({
      service: 'api',
      url: '/policies/me?x=1',
    });
    expect(JSON.parse((await send(agent, port, '///api')).body)).toMatchObject({
      service: 'api',
      url: '/',
    });
    expect(JSON.parse((await send(agent, port, '//apix//y')).body)).toMatchObject({
      service: 'portal',
      url: '//apix//y',
    });
    agent.destroy();
  });

  it('forwards queries as received, malformed percent-encoding included (the service decides)', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    for (const [path, url] of [
      ['/claims?x=%ff&y=%', '/claims?x=%ff&y=%'],
      ['/api/policies/me?a=%E0%A4%A&b=%2F..%2F', '/policies/me?a=%E0%A4%A&b=%2F..%2F'],
    ]) {
      const r = await send(agent, port, path!);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toMatchObject({ url });
    }
    // A path the proxy will not forward is its own 400, never a 500.
    for (const path of ['/static%2F..%2Fclaims', '/a%e0%a4%a/b']) {
      const r = await send(agent, port, path);
      expect({ path, status: r.status }).toEqual({ path, status: 400 });
    }
    agent.destroy();
  });

  it('forwards request bodies byte for byte with their content type', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const json = Buffer.from('{"b":"ü\\u0000","n":1.50}');
    const binary = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) % 256));
    for (const [body, type] of [
      [json, 'application/json'],
      [binary, 'application/octet-stream'],
      [Buffer.from('a=1&b=%20'), 'application/x-www-form-urlencoded'],
    ] as const) {
      const r = JSON.parse(
        (
          await send(agent, port, '/submit', {
            method: 'POST',
            body,
            headers: { 'content-type': type },
          })
        ).body,
      );
      expect(r).toMatchObject({
        service: 'portal',
        bytes: body.length,
        contentType: type,
        sha: createHash('sha256').update(body).digest('hex'),
      });
    }
    agent.destroy();
  });

  it("answers a body over the service's limit with the service's own 413, and the keep-alive connection keeps working", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const before = await send(agent, port, '/api/ping');
    expect(before.status).toBe(200);
    for (const size of [2 * 1024, 2 * 1024 * 1024]) {
      const big = await send(agent, port, '/api/items', {
        method: 'POST',
        body: Buffer.alloc(size, 0x61),
        headers: { 'content-type': 'application/json' },
      });
      expect(big.status).toBe(413);
      expect(JSON.parse(big.body)).toEqual({
        service: 'api',
        refused: 'FST_ERR_CTP_BODY_TOO_LARGE',
      });
      const after = await send(agent, port, '/api/ping');
      expect(after.status).toBe(200);
      expect(JSON.parse(after.body)).toMatchObject({ service: 'api', url: '/ping' });
    }
    agent.destroy();
  });

  it('refuses a body over its own limit with 413 and stays up', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const r = await send(agent, port, '/api/items', {
      method: 'POST',
      body: Buffer.alloc(5 * 1024 * 1024, 0x61),
      headers: { 'content-type': 'application/json' },
    }).catch((e: Error) => ({ status: -1, body: e.message }) as Reply);
    // Fastify answers 413 without reading the rest; the client may see the reply or a reset, never a hang or a 500.
    expect([413, -1]).toContain(r.status);
    const fresh = new Agent({ keepAlive: true, maxSockets: 1 });
    expect((await send(fresh, port, '/api/ping')).status).toBe(200);
    agent.destroy();
    fresh.destroy();
  });

  it('sends HSTS on every response, including errors and its own health probe', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    for (const path of ['/', '/api/x', '/healthz']) {
      expect((await send(agent, port, path)).headers['strict-transport-security']).toBe(
        'max-age=31536000; includeSubDomains',
      );
    }
    const refused = await send(agent, port, '/api/items', {
      method: 'POST',
      body: Buffer.alloc(2048, 0x61),
      headers: { 'content-type': 'application/json' },
    });
    expect(refused.status).toBe(413);
    expect(refused.headers['strict-transport-security']).toBe(
      'max-age=31536000; includeSubDomains',
    );
    agent.destroy();
  });

  it('answers 502/503 when a service is down, without hanging', async () => {
    const downPort = await freePort();
    const other = await freePort();
    const p = startNode(join(root, 'scripts', 'entry-proxy.mjs'), {
      ENTRY_PORT: String(other),
      ENTRY_TLS_CERT: join(caDir, 'server.pem'),
      ENTRY_TLS_KEY: join(caDir, 'server.key.pem'),
      ENTRY_ROUTES: JSON.stringify([{ prefix: '/', upstream: `http://127.0.0.1:${downPort}` }]),
    });
    try {
      await waitForHttp(`https://localhost:${other}/healthz`, { proc: p });
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const r = await send(agent, other, '/anything', {
        method: 'POST',
        body: Buffer.from('{}'),
        headers: { 'content-type': 'application/json' },
      });
      expect([502, 503]).toContain(r.status);
      expect(JSON.parse(r.body)).toMatchObject({
        statusCode: r.status,
        message: 'upstream / unavailable',
      });
      agent.destroy();
    } finally {
      await p.stop();
    }
  });
});
