import { Inject, type Provider } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { PG_POOL } from '@idp/service-kit';
import type { Pool } from 'pg';
import { PrismaClient } from '../generated/prisma/client';

export const PRISMA = Symbol('PRISMA');
export const InjectPrisma = (): ParameterDecorator => Inject(PRISMA);

/** Prisma over service-kit's pool, so the pool is closed once, last, by service-kit. */
export const prismaProvider: Provider = {
  provide: PRISMA,
  inject: [PG_POOL],
  useFactory: (pool: Pool) => new PrismaClient({ adapter: new PrismaPg(pool) }),
};
