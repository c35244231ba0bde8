import type { DynamicModule, Type } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';

/** A real Nest app on the Fastify adapter (driven with app.inject or app.listen). */
export async function startApp(
  authModule: DynamicModule,
  controllers: Type[],
): Promise<NestFastifyApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [authModule],
    controllers,
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
    logger: false,
  });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}
