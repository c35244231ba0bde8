import type { Pool, PoolClient, QueryResultRow } from 'pg';

/** A parameterised SQL fragment; `add` appends a parameter and returns its placeholder. */
export class SqlBuilder {
  readonly params: unknown[] = [];
  add(v: unknown): string {
    this.params.push(v);
    return `$${this.params.length}`;
  }
}

export async function rows<T extends QueryResultRow>(db: Pool | PoolClient, sql: string, params: unknown[]): Promise<T[]> {
  return (await db.query<T>(sql, params)).rows;
}

/** Runs `fn` in a transaction on one pooled connection; rolls back on any error. */
export async function inTransaction<T>(pool: Pool, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }
}

/** PostgreSQL unique_violation. */
export const isUniqueViolation = (e: unknown): boolean => typeof e === 'object' && e !== null && (e as { code?: string }).code === '23505';
