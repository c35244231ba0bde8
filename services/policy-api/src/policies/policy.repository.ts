import { Injectable } from '@nestjs/common';
import { InjectPool } from '@idp/service-kit';
import type { Pool } from 'pg';
import { ReadBatcher } from './read-batcher';

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
  private readonly byHolder = new ReadBatcher<string, PolicyRecord>((oids) => this.loadByHolders(oids));

  constructor(@InjectPool() private readonly pool: Pool) {}

  findByHolder(holderOid: string): Promise<PolicyRecord | undefined> {
    return this.byHolder.get(holderOid);
  }

  private async loadByHolders(oids: string[]): Promise<Map<string, PolicyRecord>> {
    const r =
      oids.length === 1
        ? await this.pool.query<PolicyRecord>({ name: 'policy_by_holder', text: `SELECT ${COLUMNS} FROM policies WHERE holder_oid = $1`, values: oids })
        : await this.pool.query<PolicyRecord>({ name: 'policy_by_holders', text: `SELECT ${COLUMNS} FROM policies WHERE holder_oid = ANY($1::text[])`, values: [oids] });
    return new Map(r.rows.map((row) => [row.holderOid, row]));
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
