import { Controller, Get, Header, Module, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/bootstrap';

@Controller()
class PingController {
  @Get('ping')
  ping(): { ok: true } {
    return { ok: true };
  }

  @Get('cacheable')
  @Header('cache-control', 'public, max-age=60')
  cacheable(): { ok: true } {
    return { ok: true };
  }

  @Get('origin')
  origin(@Req() req: FastifyRequest): { host: string; protocol: string; ip: string } {
    return { host: req.host, protocol: req.protocol, ip: req.ip };
  }
}

@Module({ controllers: [PingController] })
class PingModule {}

describe('createApp response headers', () => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    app = await createApp(PingModule, { service: 'headers-test', logLevel: 'silent' });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(() => app.close());

  const get = (url: string, headers: Record<string, string> = {}) =>
    app.getHttpAdapter().getInstance().inject({ method: 'GET', url, headers });

  it('marks every response nosniff, success and error alike', async () => {
    for (const url of ['/ping', '/no-such-route']) {
      expect((await get(url)).headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it("echoes a caller's plain request id and replaces anything else with a generated one", async () => {
    expect((await get('/ping', { 'x-request-id': 'req-123' })).headers['x-request-id']).toBe(
      'req-123',
    );
    for (const hostile of ['<script>alert(1)</script>', 'a b', 'x'.repeat(129), 'id\u202Eevil']) {
      const id = (await get('/ping', { 'x-request-id': hostile })).headers['x-request-id'];
      expect(id).not.toBe(hostile);
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('answers a malformed URL (which skips every hook) with a 400 body and locked-down headers', async () => {
    for (const url of ['/%zz', '/ping/%E0%A4%A']) {
      const r = await get(url);
      expect(r.statusCode).toBe(400);
      expect(r.json()).toEqual({
        error: 'invalid_request',
        message: 'The request URL is malformed',
      });
      expect(r.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
        'cache-control': 'no-store',
      });
      expect(r.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('makes every response uncacheable unless its route says otherwise', async () => {
    for (const url of ['/ping', '/no-such-route']) {
      expect((await get(url, { authorization: 'Bearer x' })).headers['cache-control']).toBe(
        'no-store',
      );
    }
    expect((await get('/cacheable')).headers['cache-control']).toBe('public, max-age=60');
  });

  it('believes X-Forwarded-* only from loopback and private addresses (the proxy), not from a public peer', async () => {
    const forwarded = {
      host: 'svc.internal',
      'x-forwarded-host': 'identity.example',
      'x-forwarded-proto': 'https',
      'x-forwarded-for': '198.51.100.7',
    };
    const inject = (remoteAddress: string) =>
      app
        .getHttpAdapter()
        .getInstance()
        .inject({ method: 'GET', url: '/origin', headers: forwarded, remoteAddress });
    for (const proxy of ['127.0.0.1', '10.244.1.17', '192.168.3.4', '::1']) {
      expect((await inject(proxy)).json()).toEqual({
        host: 'identity.example',
        protocol: 'https',
        ip: '198.51.100.7',
      });
    }
    expect((await inject('203.0.113.9')).json()).toEqual({
      host: 'svc.internal',
      protocol: 'http',
      ip: '203.0.113.9',
    });
  });

  describe('with its own trustProxy list (TRUSTED_PROXIES)', () => {
    const forwarded = {
      host: 'svc.internal',
      'x-forwarded-host': 'identity.example',
      'x-forwarded-proto': 'https',
      'x-forwarded-for': '198.51.100.7',
    };
    const believed = { host: 'identity.example', protocol: 'https', ip: '198.51.100.7' };
    const originFrom = async (trustProxy: string[], remoteAddress: string) => {
      const own = await createApp(PingModule, {
        service: 'headers-test',
        logLevel: 'silent',
        trustProxy,
      });
      try {
        await own.init();
        const fastify = own.getHttpAdapter().getInstance();
        await fastify.ready();
        const r = await fastify.inject({
          method: 'GET',
          url: '/origin',
          headers: forwarded,
          remoteAddress,
        });
        return r.json<unknown>();
      } finally {
        await own.close();
      }
    };

    it('believes exactly the listed peers: a listed public proxy yes, loopback no longer', async () => {
      const list = ['203.0.113.0/24', '2001:db8::1'];
      expect(await originFrom(list, '203.0.113.9')).toEqual(believed);
      expect(await originFrom(list, '2001:db8::1')).toEqual(believed);
      expect(await originFrom(list, '127.0.0.1')).toEqual({
        host: 'svc.internal',
        protocol: 'http',
        ip: '127.0.0.1',
      });
    });

    it('an empty list believes nobody, not even loopback', async () => {
      expect(await originFrom([], '127.0.0.1')).toEqual({
        host: 'svc.internal',
        protocol: 'http',
        ip: '127.0.0.1',
      });
    });
  });
});
