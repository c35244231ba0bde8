import { Injectable } from '@nestjs/common';
import { InjectPool } from '@idp/service-kit';
import type { Pool } from 'pg';
import { identityKey, identityOfKey, type HolderIdentity } from '../identity/holder-identity';
import { ReadBatcher } from './read-batcher';

/**
 * A policy row as the API uses it. `holderOid` is the object id of the identity it was read
 * through (the caller, for /policies/me), or of the identity that created it (by number).
 */
export interface PolicyRecord {
  id: string;
  number: string;
  holderOid: string;
  version: number;
  beneficiaries: unknown;
  createdAt: Date;
  updatedAt: Date;
}

const POLICY =
  'p.id, p.number, p.version, p.beneficiaries, p.created_at AS "createdAt", p.updated_at AS "updatedAt"';
const BY_IDENTITY = `SELECT i.provider, i.tenant_id AS "tenantId", i.oid AS "holderOid", ${POLICY} FROM policy_identities i JOIN policies p ON p.id = i.policy_id`;

type IdentityRow = PolicyRecord & { provider: HolderIdentity['provider']; tenantId: string };

/** Why creating a policy did not happen. */
export type CreateRefusal = 'identity_taken' | 'number_taken';

/**
 * Policies and the identities holding them. The hot read path (every GET /policies/me) runs as
 * named, prepared statements on the pool: Prisma's per-query overhead dominated this endpoint
 * (see benchmarks/policy-api.bench.mjs), and so does the first-read INSERT (below). Changes go
 * through BeneficiariesRepository, identity links through IdentityLinkRepository (Prisma).
 */
@Injectable()
export class PolicyRepository {
  private readonly byIdentity = new ReadBatcher<string, PolicyRecord>((keys) =>
    this.loadByIdentities(keys),
  );

  constructor(@InjectPool() private readonly pool: Pool) {}

  /** The policy this identity holds (created by it, or linked to it). */
  findByIdentity(identity: HolderIdentity): Promise<PolicyRecord | undefined> {
    return this.byIdentity.get(identityKey(identity));
  }

  private async loadByIdentities(keys: string[]): Promise<Map<string, PolicyRecord>> {
    const ids = keys.map(identityOfKey);
    const [only] = ids;
    const r =
      only && ids.length === 1
        ? await this.pool.query<IdentityRow>({
            name: 'policy_by_identity',
            text: `${BY_IDENTITY} WHERE i.provider = $1 AND i.tenant_id = $2 AND i.oid = $3`,
            values: [only.provider, only.tenantId, only.oid],
          })
        : await this.pool.query<IdentityRow>({
            name: 'policy_by_identities',
            text: `${BY_IDENTITY} WHERE (i.provider, i.tenant_id, i.oid) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))`,
            values: [ids.map((i) => i.provider), ids.map((i) => i.tenantId), ids.map((i) => i.oid)],
          });
    return new Map(
      r.rows.map(({ provider, tenantId, ...policy }) => [
        identityKey({ provider, tenantId, oid: policy.holderOid }),
        policy,
      ]),
    );
  }

  /** By id, as its creator sees it (`holderOid` is the creator's oid). */
  async findById(id: string): Promise<PolicyRecord | undefined> {
    const r = await this.pool.query<PolicyRecord>({
      name: 'policy_by_id',
      text: `SELECT p.holder_oid AS "holderOid", ${POLICY} FROM policies p WHERE p.id = $1`,
      values: [id],
    });
    return r.rows[0];
  }

  async findByNumber(number: string): Promise<PolicyRecord | undefined> {
    const r = await this.pool.query<PolicyRecord>({
      name: 'policy_by_number',
      text: `SELECT p.holder_oid AS "holderOid", ${POLICY} FROM policies p WHERE p.number = $1`,
      values: [number],
    });
    return r.rows[0];
  }

  /**
   * Creates a policy held by this identity, in one transaction. The identity's primary key
   * decides between concurrent first reads: the INSERT waits for a concurrent inserter and then
   * yields (identity_taken, the whole transaction is rolled back); a random number already in
   * use is number_taken.
   */
  async createFor(
    identity: HolderIdentity,
    p: { id: string; number: string },
  ): Promise<PolicyRecord | CreateRefusal> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const policy = await client.query<PolicyRecord>({
        name: 'policy_insert',
        text: `INSERT INTO policies AS p (id, number, holder_oid) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING p.holder_oid AS "holderOid", ${POLICY}`,
        values: [p.id, p.number, identity.oid],
      });
      const [created] = policy.rows;
      if (!created) {
        await client.query('ROLLBACK');
        return 'number_taken';
      }
      const held = await client.query({
        name: 'policy_identity_insert',
        text: 'INSERT INTO policy_identities (provider, tenant_id, oid, policy_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
        values: [identity.provider, identity.tenantId, identity.oid, p.id],
      });
      if (held.rowCount !== 1) {
        await client.query('ROLLBACK');
        return 'identity_taken';
      }
      await client.query('COMMIT');
      return created;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}
