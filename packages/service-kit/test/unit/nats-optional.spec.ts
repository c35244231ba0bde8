import { Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/bootstrap';
import { NATS_CONNECTION } from '../../src/nats/nats.providers';
import { ServiceKitModule } from '../../src/service-kit.module';

// A service that publishes and subscribes to nothing (the portal) runs without NATS: no
// connection, no NATS readiness check, and no NATS_URL asked for.
describe('ServiceKitModule with nats: false', () => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    @Module({
      imports: [
        ServiceKitModule.forRoot({
          service: 'no-nats',
          config: { LOG_LEVEL: 'silent' },
          nats: false,
          database: false,
        }),
      ],
    })
    class NoNatsModule {}
    app = await createApp(NoNatsModule, { service: 'no-nats', logLevel: 'silent' });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(() => app.close());

  it('is ready with no NATS check at all, and provides no connection', async () => {
    const r = await app.getHttpAdapter().getInstance().inject({ method: 'GET', url: '/readyz' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ status: 'ok', checks: {} });
    expect(() => app.get(NATS_CONNECTION)).toThrow();
  });

  it('refuses streams without NATS, and NATS without NATS_URL, naming the service', () => {
    expect(() =>
      ServiceKitModule.forRoot({
        service: 'no-nats',
        config: { LOG_LEVEL: 'silent' },
        nats: false,
        database: false,
        streams: ['POLICY'],
      }),
    ).toThrow('no-nats: streams need NATS; the service is configured with nats: false');
    expect(() =>
      ServiceKitModule.forRoot({
        service: 'needs-nats',
        config: { LOG_LEVEL: 'silent' },
        database: false,
      }),
    ).toThrow('needs-nats: NATS_URL is required unless the service is configured with nats: false');
  });
});
