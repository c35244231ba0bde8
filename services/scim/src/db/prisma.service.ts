import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { InjectPool } from '@idp/service-kit';
import { PrismaPg } from '@prisma/adapter-pg';
import type { Pool } from 'pg';
import { PrismaClient } from '../generated/prisma/client';

/** The Prisma client over service-kit's pg pool (closed by service-kit after us). */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleDestroy {
  constructor(@InjectPool() readonly pool: Pool) {
    super({ adapter: new PrismaPg(pool) });
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
