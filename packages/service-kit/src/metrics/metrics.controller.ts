import { Controller, Get, Header, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { collectDefaultMetrics, register } from 'prom-client';
import { refuseFromOutside } from '../http/from-outside';

let collecting = false;

/**
 * Prometheus scrape endpoint (default process metrics plus whatever a service registers), for
 * direct scrapes only (refuseFromOutside).
 */
@Controller()
export class MetricsController {
  constructor() {
    if (!collecting) {
      collectDefaultMetrics();
      collecting = true;
    }
  }

  @Get('metrics')
  @Header('content-type', register.contentType)
  metrics(@Req() req: FastifyRequest): Promise<string> {
    refuseFromOutside(req);
    return register.metrics();
  }
}
