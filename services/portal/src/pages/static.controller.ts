import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

// The one stylesheet, read once (a same-origin file keeps the CSP free of 'unsafe-inline').
const CSS = readFileSync(join(__dirname, '..', '..', 'public', 'portal.css'));

@Controller('static')
export class StaticController {
  @Get('portal.css')
  async css(@Res() reply: FastifyReply): Promise<void> {
    await reply
      .header('content-type', 'text/css; charset=utf-8')
      .header('cache-control', 'public, max-age=3600')
      .send(CSS);
  }
}
