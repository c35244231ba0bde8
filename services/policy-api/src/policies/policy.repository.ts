import { Injectable } from '@nestjs/common';
import { InjectPool } from '@idp/service-kit';
import type { Pool } from 'pg';

/** A policy row as the API uses it (Prisma's `Policy` model has the same shape). */
export interface PolicyRecord {
  id: string;
  number: string;
  holderOid: string;
  version: number;
  beneficiaries: unknown;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = 'id, number, holder_oid AS "holderOid", version, beneficiaries, created_at AS "createdAt", updated_at AS "updatedAt"';

/**
 * The hot read path (every GET /policies/me) as named, prepared statements on the pool:
 * Prisma's per-query overhead dominated this endpoint (see benchmarks/policy-api.bench.mjs).
 * Writes stay in Prisma transactions.
 */
@Injectable()
export class PolicyRepository {
  constructor(@InjectPool() private readonly pool: Pool) {}

  async findByHolder(holderOid: string): Promise<PolicyRecord | undefined> {
    const r = await this.pool.query<PolicyRecord>({ name: 'policy_by_holder', text: `SELECT ${COLUMNS} FROM policies WHERE holder_oid = $1`, values: [holderOid] });
    return r.rows[0];
  }

  async findByNumber(number: string): Promise<PolicyRecord | undefined> {
    const r = await this.pool.query<PolicyRecord>({ name: 'policy_by_number', text: `SELECT ${COLUMNS} FROM policies WHERE number = $1`, values: [number] });
    return r.rows[0];
  }

  /**
   * Inserts unless the holder (or, very rarely, the random number) already exists. ON CONFLICT
   * DO NOTHING waits for a concurrent inserter and then yields, so parallel first reads converge.
   */
  async insertIfAbsent(p: { id: string; number: string; holderOid: string }): Promise<PolicyRecord | undefined> {
    const r = await this.pool.query<PolicyRecord>({
      name: 'policy_insert',
      text: `INSERT INTO policies (id, number, holder_oid) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
      values: [p.id, p.number, p.holderOid],
    });
    return r.rows[0];
  }
}
