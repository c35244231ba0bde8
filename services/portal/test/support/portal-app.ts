// The portal in-process (same modules and hooks as dist/main.js), for tests.
import { createApp } from '@idp/service-kit';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { AppModule } from '../../src/app.module';
import { loadPortalConfig, type PortalConfig } from '../../src/config';
import { portalAppOptions } from '../../src/errors/router-errors';
import { configurePortal } from '../../src/web/configure';

export interface InProcessPortal {
  app: NestFastifyApplication;
  fastify: FastifyInstance;
  config: PortalConfig;
  /** http://127.0.0.1:PORT when listening. */
  url: string;
  close(): Promise<void>;
}

export async function startPortalInProcess(
  env: Record<string, string>,
  o: { listen?: boolean } = {},
): Promise<InProcessPortal> {
  const config = loadPortalConfig({ MIGRATE_ON_START: 'true', LOG_LEVEL: 'silent', ...env });
  const app = await createApp(AppModule.forRoot(config), {
    service: 'portal',
    logLevel: config.LOG_LEVEL,
    ...portalAppOptions,
  });
  await configurePortal(app, config);
  let url = '';
  if (o.listen) {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.getHttpServer().address();
    url = typeof address === 'object' && address ? `http://127.0.0.1:${address.port}` : '';
  } else {
    await app.init();
  }
  return {
    app,
    fastify: app.getHttpAdapter().getInstance(),
    config,
    url,
    close: () => app.close(),
  };
}
