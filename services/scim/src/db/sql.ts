import { createHash } from 'node:crypto';
import type { Pool, PoolClient, QueryResultRow } from 'pg';

/** A parameterised SQL fragment; `add` appends a parameter and returns its placeholder. */
export class SqlBuilder {
  readonly params: unknown[] = [];
  add(v: unknown): string {
    this.params.push(v);
    return `$${this.params.length}`;
  }
}

const named = new Map<string, string>();
const MAX_NAMED = 500;

/**
 * Runs a query. Statements are named (hence prepared once per connection and not re-planned by
 * PostgreSQL on every request); the name is derived from the text, and only a bounded number of
 * distinct texts get one, so arbitrary filter shapes cannot grow the server's statement cache.
 */
export async function rows<T extends QueryResultRow>(
  db: Pool | PoolClient,
  sql: string,
  params: unknown[],
): Promise<T[]> {
  // LIKE filters stay unnamed, hence planned with their values: a generic plan cannot see that
  // `LIKE 'abc%'` fits the btree or is selective enough for the trigram index, and scans instead.
  if (sql.includes(' LIKE ')) return (await db.query<T>({ text: sql, values: params })).rows;
  let name = named.get(sql);
  if (name === undefined && named.size < MAX_NAMED) {
    name = `scim_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
    named.set(sql, name);
  }
  return (await db.query<T>({ name, text: sql, values: params })).rows;
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
export const isUniqueViolation = (e: unknown): boolean =>
  typeof e === 'object' && e !== null && (e as { code?: string }).code === '23505';

/**
 * Errors PostgreSQL raises for values it cannot store or index (NUL characters, index rows over
 * the size limit): a client's bad value, never a server fault.
 */
const UNSTORABLE = new Set(['22021', '22P05', '54000', '22001', '22P02']);
/** PostgreSQL foreign_key_violation: e.g. a member deleted while a group PATCH was adding it. */
export const isMissingReference = (e: unknown): boolean =>
  typeof e === 'object' && e !== null && (e as { code?: string }).code === '23503';

/**
 * A foreign_key_violation on a row's directory: the directory was deleted (a forced delete
 * committed while the write waited for its row), and its tokens with it.
 */
export function isDeletedDirectory(e: unknown): boolean {
  if (!isMissingReference(e)) return false;
  const constraint = (e as { constraint?: unknown }).constraint;
  return typeof constraint === 'string' && constraint.endsWith('_directory_id_fkey');
}

export const isUnstorableValue = (e: unknown): boolean =>
  typeof e === 'object' && e !== null && UNSTORABLE.has((e as { code?: string }).code ?? '');
