import { createServer, connect, type Socket } from 'node:net';
import { startNats, startPostgres, type TestNatsServer, type TestPostgres } from '@idp/testing';
import { INVALIDATION_CHANNEL } from '../../src/tokens/token-invalidation';
import { startScim, type ScimTestApp } from '../support/scim-app';

/**
 * A TCP proxy in front of PostgreSQL that forwards everything but drops every connection that
 * sent `LISTEN` shortly after it did (the pool's connections are left alone): the LISTEN succeeds,
 * then the connection is gone, as behind a proxy that accepts and then drops connections.
 */
interface Proxy {
  /** When each LISTEN was sent (monotonic ms). */
  listens: number[];
  port: number;
  close(): Promise<void>;
}

async function droppingProxy(target: URL): Promise<Proxy> {
  const listens: number[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.on('data', (chunk: Buffer) => {
      // A simple-protocol Query message ('Q', length, SQL) that is the LISTEN.
      if (
        chunk[0] === 0x51 &&
        chunk.subarray(5).toString().startsWith(`LISTEN ${INVALIDATION_CHANNEL}`)
      ) {
        listens.push(performance.now());
        setTimeout(close, 100);
      }
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    listens,
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        sockets.forEach((s) => s.destroy());
      }),
  };
}

describe('the invalidation channel behind a proxy that drops connections', () => {
  let pg: TestPostgres;
  let nats: TestNatsServer;
  let s: ScimTestApp;
  let proxy: Proxy;
  beforeAll(async () => {
    [pg, nats] = await Promise.all([startPostgres(), startNats()]);
    const url = new URL(await pg.createDatabase());
    proxy = await droppingProxy(new URL(url));
    url.port = String(proxy.port);
    // The service reaches its database (pool and LISTEN connection) only through the proxy.
    s = await startScim({ DATABASE_URL: url.toString() }, { shared: { pg, nats } });
  });
  afterAll(async () => {
    await s.close();
    await proxy.close();
    await Promise.all([pg.stop(), nats.dispose()]);
  });

  it('backs off between reconnects although each LISTEN succeeds', async () => {
    await new Promise((r) => setTimeout(r, 6000));
    const l = proxy.listens;
    // Reset to 500 ms on every successful LISTEN this was one reconnect every ~0.6 s (about ten
    // in 6 s); doubling from 500 ms it is 0.5 + 1 + 2 (+ the 0.1 s each connection lived).
    expect(l.length).toBeGreaterThanOrEqual(3);
    expect(l.length).toBeLessThanOrEqual(5);
    const gaps = l.slice(1).map((t, i) => t - l[i]!);
    expect(gaps[1]!).toBeGreaterThan(gaps[0]! + 300);
    expect(gaps[2] ?? Infinity).toBeGreaterThan(gaps[1]! + 600);
    // Meanwhile the service works through the same proxy (the pool is not dropped).
    const token = await s.directory('contoso');
    expect((await s.request('GET', '/scim/v2/Users', { token })).status).toBe(200);
  });
});
