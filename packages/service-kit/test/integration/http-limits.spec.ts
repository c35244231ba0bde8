import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Controller, Get, Module, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { z } from 'zod';
import { rawExchange, type RawOutcome } from '@idp/testing';
import { bootService, createApp } from '../../src/bootstrap';
import { commonEnvShape } from '../../src/config/env';
import { loadConfig } from '../../src/config/load-config';
import { httpRequests } from '../../src/metrics/http-metrics';

// Slow and greedy clients against a real server built by createApp: every one gets a 4xx or a
// closed socket in bounded time, never a connection held open for as long as it likes.

@Controller()
class EchoController {
  @Get('ping')
  ping(): { ok: true } {
    return { ok: true };
  }

  @Get('origin')
  origin(@Req() req: FastifyRequest): { host: string; ip: string } {
    return { host: req.host, ip: req.ip };
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
const bodyOf = (text: string) => text.slice(text.indexOf('\r\n\r\n') + 4);

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

  describe("requests Node's parser refuses (no route, hook or handler ever sees them)", () => {
    let app: NestFastifyApplication;
    let port: number;
    let warn: jest.SpyInstance;
    beforeAll(async () => {
      app = await createApp(EchoModule, {
        service: 'parser-test',
        logLevel: 'warn',
        limits: { headersTimeoutMs: 800, requestTimeoutMs: 1500, checkIntervalMs: 100 },
      });
      await app.listen({ port: 0, host: '127.0.0.1' });
      port = (app.getHttpServer().address() as AddressInfo).port;
      // The root logger (Fastify's, the one createApp built): what the refusal is logged with.
      warn = jest
        .spyOn(app.getHttpAdapter().getInstance().log, 'warn')
        .mockImplementation(() => undefined);
    });
    afterAll(() => app.close());

    const refusedCount = async (status: string) =>
      (await httpRequests.get()).values.find(
        (v) =>
          v.labels.route === 'unmatched' &&
          v.labels.method === 'OTHER' &&
          v.labels.status_code === status,
      )?.value ?? 0;
    const refusalLines = () =>
      warn.mock.calls.filter(([, msg]) => msg === 'request refused by the HTTP parser');

    it('answers with the locked-down headers and a request id, logs the code and counts each', async () => {
      const cases: Array<[string, string, string]> = [
        [
          '400',
          'HPE_INVALID_TRANSFER_ENCODING',
          'POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
        ],
        [
          '400',
          'HPE_INVALID_HEADER_TOKEN',
          'GET /ping HTTP/1.1\r\nHost: localhost\r\nX-Evil: a\u001b[2Jb\r\n\r\n',
        ],
        ['400', 'HPE_INVALID_URL', 'GET /ping\u007f HTTP/1.1\r\nHost: localhost\r\n\r\n'],
        [
          '431',
          'HPE_HEADER_OVERFLOW',
          `GET /ping HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        ],
        ['408', 'ERR_HTTP_REQUEST_TIMEOUT', 'GET /ping HTTP/1.1\r\nHost: localhost\r\nX-A: 1\r\n'],
      ];
      for (const [status, code, request] of cases) {
        const before = await refusedCount(status);
        warn.mockClear();
        const r = await raw(port, request, 5000);
        expect({ code, status: statusOf(r.text), closed: r.closed }).toEqual({
          code,
          status,
          closed: true,
        });
        const head = r.text.slice(0, r.text.indexOf('\r\n\r\n')).toLowerCase();
        expect(head).toContain('\r\nx-content-type-options: nosniff');
        expect(head).toContain('\r\ncache-control: no-store');
        expect(head).toContain("\r\ncontent-security-policy: default-src 'none'");
        const id = /\r\nx-request-id: ([0-9a-f-]{36})/.exec(head)?.[1];
        expect(JSON.parse(bodyOf(r.text))).toMatchObject({ statusCode: Number(status) });
        expect(await refusedCount(status)).toBe(before + 1);
        // One warn line with the parser's code and the id the client got, never the bytes sent.
        expect(refusalLines()).toEqual([
          [{ reqId: id, code, res: { statusCode: Number(status) } }, expect.any(String)],
        ]);
      }
    });

    it('answers a connection that sent nothing with 408 but neither logs nor counts it', async () => {
      const before = await refusedCount('408');
      warn.mockClear();
      const r = await raw(port, '', 5000);
      expect(statusOf(r.text)).toBe('408');
      expect(r.closed).toBe(true);
      expect(await refusedCount('408')).toBe(before);
      expect(refusalLines()).toEqual([]);
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

  describe('requests the ingress refuses, sent to the service directly', () => {
    let app: NestFastifyApplication;
    let port: number;
    beforeAll(async () => {
      app = await createApp(EchoModule, { service: 'limits-test', logLevel: 'silent' });
      await app.listen({ port: 0, host: '127.0.0.1' });
      port = (app.getHttpServer().address() as AddressInfo).port;
    });
    afterAll(() => app.close());

    it('answers 400 to two Host headers, in any spelling, and closes; one Host is served', async () => {
      for (const second of ['Host: evil.example', 'host: localhost', 'HOST: evil.example']) {
        const r = await raw(
          port,
          `GET /origin HTTP/1.1\r\nHost: localhost\r\nX-A: 1\r\n${second}\r\n\r\nGET /ping HTTP/1.1\r\nHost: localhost\r\n\r\n`,
          3000,
        );
        expect({ second, status: statusOf(r.text), closed: r.closed }).toEqual({
          second,
          status: '400',
          closed: true,
        });
        expect(r.text).toMatch(/\r\nx-content-type-options: nosniff\r\n/i);
        expect(JSON.parse(bodyOf(r.text))).toEqual({
          error: 'invalid_request',
          message: 'The request has more than one Host header',
        });
        // Nothing after it on that connection is answered.
        expect(r.text.match(/HTTP\/1\.1 /g)).toHaveLength(1);
      }
      const one = await raw(
        port,
        'GET /origin HTTP/1.1\r\nHost: localhost\r\nX-Host: other\r\nConnection: close\r\n\r\n',
        3000,
      );
      expect(statusOf(one.text)).toBe('200');
      expect(JSON.parse(bodyOf(one.text))).toEqual({ host: 'localhost', ip: '127.0.0.1' });
    });

    it('answers CONNECT with 405 and Allow, then closes (not a silently dropped socket)', async () => {
      const r = await raw(
        port,
        'CONNECT internal.example:443 HTTP/1.1\r\nHost: internal.example:443\r\n\r\n',
        3000,
      );
      expect(statusOf(r.text)).toBe('405');
      expect(r.text).toMatch(/\r\nAllow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\n/);
      expect(r.text).toMatch(/\r\nContent-Length: 0\r\n/);
      expect(r.closed).toBe(true);
      expect(r.ms).toBeLessThan(2000);
      // The server is unharmed: the next client is served.
      const next = await raw(
        port,
        'GET /ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
        3000,
      );
      expect(statusOf(next.text)).toBe('200');
    });
  });

  it('bootService hands TRUSTED_PROXIES to the server: "none" ignores X-Forwarded-* even from loopback', async () => {
    const schema = z.object({
      PORT: commonEnvShape.PORT,
      LOG_LEVEL: commonEnvShape.LOG_LEVEL,
      SHUTDOWN_TIMEOUT_MS: commonEnvShape.SHUTDOWN_TIMEOUT_MS,
      TRUSTED_PROXIES: commonEnvShape.TRUSTED_PROXIES,
    });
    const signalListeners = () => [...process.listeners('SIGTERM'), ...process.listeners('SIGINT')];
    const before = new Set(signalListeners());
    const app = await bootService({
      name: 'boot-test',
      loadConfig: () =>
        loadConfig(schema, { PORT: '0', LOG_LEVEL: 'silent', TRUSTED_PROXIES: 'none' }),
      module: () => EchoModule,
    });
    try {
      const port = (app.getHttpServer().address() as AddressInfo).port;
      const r = await raw(
        port,
        'GET /origin HTTP/1.1\r\nHost: svc.internal\r\nX-Forwarded-Host: identity.example\r\nX-Forwarded-For: 198.51.100.7\r\nConnection: close\r\n\r\n',
        3000,
      );
      expect(JSON.parse(bodyOf(r.text))).toEqual({ host: 'svc.internal', ip: '127.0.0.1' });
    } finally {
      // bootService's shutdown handlers would exit the test process on a signal.
      for (const l of signalListeners())
        if (!before.has(l)) {
          process.removeListener('SIGTERM', l as () => void);
          process.removeListener('SIGINT', l as () => void);
        }
      await app.close();
    }
  });
});
