import { Controller, Get, HttpCode, Req, Res, BeforeApplicationShutdown } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { refuseFromOutside } from '../http/from-outside';
import { ReadinessRegistry } from './readiness';

@Controller()
export class HealthController implements BeforeApplicationShutdown {
  constructor(private readonly readiness: ReadinessRegistry) {}

  /** Liveness: the process answers. Deliberately checks nothing else. */
  @Get('healthz')
  @HttpCode(200)
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: every dependency (NATS, database, ...) answers. Direct probes only. */
  @Get('readyz')
  async readyz(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<{ status: string; checks: Record<string, string> }> {
    refuseFromOutside(req);
    const r = await this.readiness.run();
    res.status(r.ready ? 200 : 503);
    return { status: r.ready ? 'ok' : 'unavailable', checks: r.checks };
  }

  beforeApplicationShutdown(): void {
    this.readiness.markDraining();
  }
}
