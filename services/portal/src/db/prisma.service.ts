import { Injectable } from '@nestjs/common';
import { InjectPool } from '@idp/service-kit';
import { PrismaPg } from '@prisma/adapter-pg';
import type { Pool } from 'pg';
import { PrismaClient } from '../generated/prisma/client';

/** Prisma over service-kit's pool, so the pool is closed once, last, by service-kit. */
@Injectable()
export class PrismaService extends PrismaClient {
  constructor(@InjectPool() pool: Pool) {
    super({ adapter: new PrismaPg(pool) });
  }
}
