import { Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/bootstrap';
import { HealthController } from '../../src/health/health.controller';
import { ReadinessRegistry } from '../../src/health/readiness';
import { MetricsController } from '../../src/metrics/metrics.controller';

let checksRun = 0;

@Module({ controllers: [HealthController, MetricsController], providers: [ReadinessRegistry] })
class OpsModule {}

// Prometheus, the kubelet and `helm test` reach the pods directly; the ingress and the entry
// proxy add X-Forwarded-For / Forwarded, and the portal serves every path under `/`.
describe('operational endpoints through a proxy', () => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    app = await createApp(OpsModule, { service: 'ops-test', logLevel: 'silent' });
    app.get(ReadinessRegistry).register('database', async () => {
      checksRun += 1;
    });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(() => app.close());

  const get = (url: string, headers: Record<string, string> = {}) =>
    app.getHttpAdapter().getInstance().inject({ method: 'GET', url, headers });
  const viaProxy: Record<string, string>[] = [
    { 'x-forwarded-for': '203.0.113.7' },
    { forwarded: 'for=203.0.113.7' },
  ];

  it.each([
    ['/metrics', 'process_cpu_seconds_total'],
    ['/readyz', '"database":"ok"'],
  ])('%s answers a direct probe and is a 404 through a proxy', async (url, marker) => {
    const direct = await get(url);
    expect(direct.statusCode).toBe(200);
    expect(direct.body).toContain(marker);
    for (const headers of viaProxy) {
      const proxied = await get(url, headers);
      expect({ headers, status: proxied.statusCode }).toEqual({ headers, status: 404 });
      expect(proxied.body).not.toContain(marker);
    }
  });

  it('runs no dependency check for a proxied /readyz (no database round trip per anonymous caller)', async () => {
    const before = checksRun;
    for (const headers of viaProxy) await get('/readyz', headers);
    expect(checksRun).toBe(before);
    await get('/readyz');
    expect(checksRun).toBe(before + 1);
  });

  it('keeps /healthz (liveness, checks nothing) answering', async () => {
    expect((await get('/healthz', viaProxy[0])).statusCode).toBe(200);
  });
});
