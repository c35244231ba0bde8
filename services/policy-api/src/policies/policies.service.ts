import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { PrismaService } from '../database/prisma.service';
import type { Policy } from '../generated/prisma/client';
import { newPolicyNumber } from './policy-number';

@Injectable()
export class PoliciesService {
  constructor(private readonly db: PrismaService) {}

  /**
   * The caller's policy, created on first read. INSERT ... ON CONFLICT DO NOTHING makes
   * concurrent first reads converge on one row (the unique holder_oid decides the winner).
   */
  async findOrCreate(holderOid: string): Promise<Policy> {
    const existing = await this.db.policy.findUnique({ where: { holderOid } });
    if (existing) return existing;
    for (let attempt = 0; attempt < 5; attempt++) {
      await this.db.policy.createMany({ data: [{ id: randomUUID(), number: newPolicyNumber(), holderOid }], skipDuplicates: true });
      const created = await this.db.policy.findUnique({ where: { holderOid } });
      if (created) return created;
      // Nothing inserted and no row: the random number collided with another policy; draw again.
    }
    throw new Error('could not allocate a unique policy number');
  }

  findByHolder(holderOid: string): Promise<Policy | null> {
    return this.db.policy.findUnique({ where: { holderOid } });
  }

  findByNumber(number: string): Promise<Policy | null> {
    return this.db.policy.findUnique({ where: { number } });
  }
}
