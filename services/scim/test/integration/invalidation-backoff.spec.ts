import { createServer, connect, type Socket } from 'node:net';
import { startNats, startPostgres, type TestNatsServer, type TestPostgres } from '@idp/testing';
import { INVALIDATION_CHANNEL } from '../../src/tokens/token-invalidation';
import { startScim, type ScimTestApp } from '../support/scim-app';

/**
 * A TCP proxy in front of PostgreSQL that forwards everything but drops every connection that
 * sent `LISTEN` `dropAfterMs` after it did (the pool's connections are left alone): the LISTEN
 * succeeds, then the connection is gone, as behind a proxy that accepts and then drops connections.
 */
interface Proxy {
  /** When each LISTEN was sent (monotonic ms). */
  listens: number[];
  port: number;
  close(): Promise<void>;
}

async function droppingProxy(target: URL, dropAfterMs = 100): Promise<Proxy> {
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
        setTimeout(close, dropAfterMs);
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

/** Gaps (ms) between consecutive LISTENs. */
const gapsOf = (l: number[]): number[] => l.slice(1).map((t, i) => t - l[i]!);

// The stable period is an option of the listener (AppModule.forRoot's `invalidation.stableMs`):
// two services whose LISTEN connections each live 300 ms, one with a 200 ms stable period, one
// with 1 s. Only the first may start its backoff over.
describe('the invalidation channel: the backoff starts over after a stable period only', () => {
  let pg: TestPostgres;
  let nats: TestNatsServer;
  const apps: ScimTestApp[] = [];
  const proxies: Proxy[] = [];
  let watched: Promise<void>;
  const LIVES_MS = 300;
  beforeAll(async () => {
    [pg, nats] = await Promise.all([startPostgres(), startNats()]);
    for (const stableMs of [200, 1000]) {
      const url = new URL(await pg.createDatabase());
      const proxy = await droppingProxy(new URL(url), LIVES_MS);
      url.port = String(proxy.port);
      proxies.push(proxy);
      apps.push(
        await startScim(
          { DATABASE_URL: url.toString() },
          { shared: { pg, nats }, module: { invalidation: { stableMs } } },
        ),
      );
    }
    // Both are watched over the same 6 s.
    watched = new Promise((r) => setTimeout(r, 6000));
  });
  afterAll(async () => {
    for (const a of apps) await a.close();
    for (const p of proxies) await p.close();
    await Promise.all([pg.stop(), nats.dispose()]);
  });

  it('a connection that lasted the stable period reconnects after the first delay again', async () => {
    await watched;
    const l = proxies[0]!.listens;
    // 0.5 s wait + 0.3 s up each time: about seven LISTENs in 6 s. Doubling instead (no reset)
    // the gaps would be 0.8, 1.3, 2.3 s: four LISTENs, the third gap twice the limit below.
    expect(l.length).toBeGreaterThanOrEqual(5);
    for (const gap of gapsOf(l)) expect(gap).toBeLessThan(1200);
    const token = await apps[0]!.directory('contoso');
    expect((await apps[0]!.request('GET', '/scim/v2/Users', { token })).status).toBe(200);
  });

  it('a connection dropped before the stable period keeps the backoff growing', async () => {
    await watched;
    const l = proxies[1]!.listens;
    // 0.5, 1, 2 s waits (+ 0.3 s up): gaps of about 0.8, 1.3, 2.3 s, LISTENs at 0, 0.8, 2.1, 4.4 s.
    expect(l.length).toBeGreaterThanOrEqual(3);
    expect(l.length).toBeLessThanOrEqual(4);
    const gaps = gapsOf(l);
    expect(gaps[1]!).toBeGreaterThan(gaps[0]! + 300);
    expect(gaps[2] ?? Infinity).toBeGreaterThan(gaps[1]! + 600);
  });
});
