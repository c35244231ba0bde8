import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Controller, Get, Module, Post } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { rawExchange, type RawOutcome } from '@idp/testing';
import { createApp } from '../../src/bootstrap';

// Slow and greedy clients against a real server built by createApp: every one gets a 4xx or a
// closed socket in bounded time, never a connection held open for as long as it likes.

@Controller()
class EchoController {
  @Get('ping')
  ping(): { ok: true } {
    return { ok: true };
  }

  @Post('echo')
  echo(): { ok: true } {
    return { ok: true };
  }
}

@Module({ controllers: [EchoController] })
class EchoModule {}

/** Writes raw bytes, then collects what comes back until the server closes or `waitMs` passes. */
const raw = (port: number, data: string, waitMs: number): Promise<RawOutcome> =>
  rawExchange(port, data, { waitMs });

const statusOf = (text: string) => /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];

describe('createApp HTTP limits on a real socket', () => {
  describe('with short deadlines', () => {
    let app: NestFastifyApplication;
    let port: number;
    beforeAll(async () => {
      app = await createApp(EchoModule, {
        service: 'limits-test',
        logLevel: 'silent',
        limits: {
          headersTimeoutMs: 800,
          requestTimeoutMs: 1500,
          keepAliveTimeoutMs: 700,
          checkIntervalMs: 100,
        },
      });
      await app.listen({ port: 0, host: '127.0.0.1' });
      port = (app.getHttpServer().address() as AddressInfo).port;
    });
    afterAll(() => app.close());

    it('answers 408 and closes when the headers never finish (slowloris)', async () => {
      const r = await raw(port, 'GET /ping HTTP/1.1\r\nHost: localhost\r\nX-A: 1\r\n', 5000);
      expect(statusOf(r.text)).toBe('408');
      expect(r.closed).toBe(true);
      expect(r.ms).toBeLessThan(3000);
    });

    it('closes a connection that never sends a request', async () => {
      const r = await raw(port, '', 5000);
      expect(statusOf(r.text)).toBe('408');
      expect(r.closed).toBe(true);
      expect(r.ms).toBeLessThan(3000);
    });

    it('answers 408 and closes when a declared body never arrives (slow body)', async () => {
      const r = await raw(
        port,
        'POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{',
        6000,
      );
      expect(statusOf(r.text)).toBe('408');
      expect(r.closed).toBe(true);
      expect(r.ms).toBeLessThan(4000);
    });

    it('closes an idle keep-alive connection after its timeout', async () => {
      const r = await raw(port, 'GET /ping HTTP/1.1\r\nHost: localhost\r\n\r\n', 5000);
      expect(statusOf(r.text)).toBe('200');
      expect(r.closed).toBe(true);
      expect(r.ms).toBeLessThan(3000);
    });

    it('answers 431 to headers over the size limit, however they are spread', async () => {
      const many = Array.from({ length: 3000 }, (_, i) => `X-H${i}: 1\r\n`).join('');
      for (const headers of [`X-Big: ${'a'.repeat(20_000)}\r\n`, many]) {
        const r = await raw(port, `GET /ping HTTP/1.1\r\nHost: localhost\r\n${headers}\r\n`, 5000);
        expect(statusOf(r.text)).toBe('431');
      }
      const longUrl = await raw(
        port,
        `GET /ping?q=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`,
        5000,
      );
      expect(statusOf(longUrl.text)).toBe('431');
    });

    it('refuses request smuggling framings with 400 and closes', async () => {
      for (const framing of [
        'Content-Length: 4\r\nTransfer-Encoding: chunked\r\n',
        'Content-Length: 4\r\nContent-Length: 5\r\n',
        'Transfer-Encoding: chunked, identity\r\n',
        'X-Folded: a\r\n b\r\n',
      ]) {
        const r = await raw(
          port,
          `POST /echo HTTP/1.1\r\nHost: localhost\r\n${framing}\r\n0\r\n\r\nGET /ping HTTP/1.1\r\nHost: localhost\r\n\r\n`,
          5000,
        );
        expect({ framing, status: statusOf(r.text), closed: r.closed }).toEqual({
          framing,
          status: '400',
          closed: true,
        });
        // The smuggled second request is never answered.
        expect(r.text.match(/HTTP\/1\.1 /g)).toHaveLength(1);
      }
    });
  });

  it('has deadlines by default: none of them is left at "never"', async () => {
    const app = await createApp(EchoModule, { service: 'limits-test', logLevel: 'silent' });
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      // maxHeaderSize is set from the server options but missing from @types/node's Server.
      const server = app.getHttpServer() as Server & { maxHeaderSize?: number };
      expect({
        headersTimeout: server.headersTimeout,
        requestTimeout: server.requestTimeout,
        keepAliveTimeout: server.keepAliveTimeout,
        maxHeaderSize: server.maxHeaderSize,
      }).toEqual({
        headersTimeout: 20_000,
        requestTimeout: 60_000,
        keepAliveTimeout: 72_000,
        maxHeaderSize: 16 * 1024,
      });
    } finally {
      await app.close();
    }
  });
});
