import { createServer, connect, type Server, type Socket } from 'node:net';
import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { startNats, startPostgres, type TestNatsServer, type TestPostgres } from '@idp/testing';
import { INVALIDATION_CHANNEL } from '../../src/tokens/token-invalidation';
import { startScim, type ScimTestApp } from '../support/scim-app';

// Shutdown that lands while the invalidation listener is connected but its LISTEN is not answered
// yet: the listener's connection is ended once by the shutdown, and its failed LISTEN must not end
// it again and wait (the close returns promptly and the service's log names no host).
describe('the invalidation channel: shutdown between connecting and LISTEN', () => {
  let pg: TestPostgres;
  let nats: TestNatsServer;
  let s: ScimTestApp;
  let server: Server;
  const sockets = new Set<Socket>();
  let listenSent: () => void;
  const listening = new Promise<void>((r) => (listenSent = r));

  beforeAll(async () => {
    [pg, nats] = await Promise.all([startPostgres(), startNats()]);
    const url = new URL(await pg.createDatabase());
    // Forwards everything but the LISTEN, which is swallowed: that connection waits for its answer.
    server = createServer((client) => {
      const upstream = connect(pg.port, '127.0.0.1');
      for (const x of [client, upstream]) {
        sockets.add(x);
        x.on('error', () => x.destroy());
        x.on('close', () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(x);
        });
      }
      client.on('data', (chunk: Buffer) => {
        const isListen =
          chunk[0] === 0x51 &&
          chunk.subarray(5).toString().startsWith(`LISTEN ${INVALIDATION_CHANNEL}`);
        if (isListen) listenSent();
        else upstream.write(chunk);
      });
      upstream.pipe(client);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url.port = String((server.address() as { port: number }).port);
    s = await startScim({ DATABASE_URL: url.toString() }, { shared: { pg, nats } });
  });
  afterAll(async () => {
    for (const x of sockets) x.destroy();
    await new Promise((r) => server.close(r));
    await Promise.all([pg.stop(), nats.dispose()]);
  });

  it('closes promptly, ending the listener connection once', async () => {
    await listening;
    const warn = jest.spyOn(Logger.prototype, 'warn');
    // Calls through; records which client each end() was called on.
    const end = jest.spyOn(Client.prototype, 'end');
    const started = Date.now();
    await s.close();
    expect(Date.now() - started).toBeLessThan(3000);
    // No client (the listener's nor a pooled one) was ended twice.
    const ended = end.mock.contexts;
    expect(ended.length).toBeGreaterThan(0);
    expect(new Set(ended).size).toBe(ended.length);
    end.mockRestore();
    const logged = warn.mock.calls.map((c) => String(c[0]));
    expect(logged.some((m) => m.startsWith('invalidation channel unavailable'))).toBe(true);
    for (const m of logged) expect(m).not.toMatch(/127\.0\.0\.1|postgres(ql)?:\/\//);
    warn.mockRestore();
  });
});
