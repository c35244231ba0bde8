import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Module } from '@nestjs/common';
import { createApp } from '../../src/bootstrap';

// A request in flight when the service starts closing (SIGTERM during a rollout) is answered,
// and its keep-alive connection does not hold the close for the keep-alive timeout (72 s).

let release: () => void = () => undefined;
const released = () => new Promise<void>((r) => (release = r));

@Controller()
class SlowController {
  @Get('slow')
  async slow(): Promise<{ ok: true }> {
    await released();
    return { ok: true };
  }
}

@Module({ controllers: [SlowController] })
class SlowModule {}

describe('createApp closing with a request in flight on a keep-alive connection', () => {
  it('answers it with Connection: close and finishes closing right after', async () => {
    const app = await createApp(SlowModule, { service: 'close-test', logLevel: 'silent' });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.getHttpServer().address() as AddressInfo).port;
    const agent = new http.Agent({ keepAlive: true });
    try {
      const answer = new Promise<{ status?: number; connection?: string; body: string }>(
        (resolve, reject) => {
          http
            .get({ port, host: '127.0.0.1', path: '/slow', agent }, (res) => {
              let body = '';
              res.on('data', (c: Buffer) => (body += c.toString()));
              res.on('end', () =>
                resolve({ status: res.statusCode, connection: res.headers.connection, body }),
              );
            })
            .on('error', reject);
        },
      );
      // The handler is waiting: start closing, then let it answer.
      while (!app.getHttpServer().listening) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 100));
      const started = performance.now();
      const closed = app.close();
      await new Promise((r) => setTimeout(r, 100));
      release();
      expect(await answer).toEqual({ status: 200, connection: 'close', body: '{"ok":true}' });
      await closed;
      expect(performance.now() - started).toBeLessThan(5000);
    } finally {
      agent.destroy();
    }
  }, 20000);
});
