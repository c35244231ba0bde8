import { Controller, Get, HttpCode, Res, BeforeApplicationShutdown } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
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

  /** Readiness: every dependency (NATS, database, ...) answers. */
  @Get('readyz')
  async readyz(
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<{ status: string; checks: Record<string, string> }> {
    const r = await this.readiness.run();
    res.status(r.ready ? 200 : 503);
    return { status: r.ready ? 'ok' : 'unavailable', checks: r.checks };
  }

  beforeApplicationShutdown(): void {
    this.readiness.markDraining();
  }
}
