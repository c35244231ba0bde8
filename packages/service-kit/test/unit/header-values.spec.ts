import { Controller, Get, Module, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/bootstrap';

// A value Node cannot put on the wire (outside latin-1, or a control character) made Fastify 5
// never answer: the request hung until its deadline. Driven over a real socket, where Node checks.
@Controller()
class HeaderController {
  @Get('typographic')
  typographic(@Res({ passthrough: true }) res: FastifyReply): { ok: true } {
    res.header('x-note', 'caf\u00e9 \u2019quoted\u2019');
    return { ok: true };
  }

  @Get('control')
  control(@Res({ passthrough: true }) res: FastifyReply): { ok: true } {
    res.header('x-note', 'line\r\nx-injected: 1');
    return { ok: true };
  }

  @Get('redirect')
  redirect(@Res() res: FastifyReply): void {
    void res.redirect('/policy?name=J\u00f6rg \u{1F642}', 303);
  }
}

@Module({ controllers: [HeaderController] })
class HeaderModule {}

describe('response header values HTTP cannot carry', () => {
  let app: NestFastifyApplication;
  let base: string;
  beforeAll(async () => {
    app = await createApp(HeaderModule, { service: 'header-test', logLevel: 'silent' });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const addr = app.getHttpServer().address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });
  afterAll(() => app.close());

  const get = (path: string) =>
    fetch(`${base}${path}`, { redirect: 'manual', signal: AbortSignal.timeout(5000) });

  it('answers instead of hanging, without the header that cannot be sent', async () => {
    for (const path of ['/typographic', '/control']) {
      const r = await get(path);
      expect({ path, status: r.status }).toEqual({ path, status: 200 });
      expect(r.headers.get('x-note')).toBeNull();
      expect(r.headers.get('x-injected')).toBeNull();
      expect(await r.json()).toEqual({ ok: true });
    }
  });

  it('percent-encodes a redirect Location instead of dropping it', async () => {
    const r = await get('/redirect');
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/policy?name=J%C3%B6rg%20%F0%9F%99%82');
  });
});
