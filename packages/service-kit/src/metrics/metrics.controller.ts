import { Controller, Get, Header, NotFoundException, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { collectDefaultMetrics, register } from 'prom-client';

let collecting = false;

/**
 * Prometheus scrape endpoint (default process metrics plus whatever a service registers).
 * Prometheus scrapes the pods directly; a request that came through the ingress or the local
 * entry proxy (they add X-Forwarded-For / Forwarded) is from outside and gets a 404: the portal
 * serves `/` and everything under it, so the ingress would otherwise publish its metrics.
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
    if (req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined)
      throw new NotFoundException();
    return register.metrics();
  }
}
