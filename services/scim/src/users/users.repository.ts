import { Injectable } from '@nestjs/common';
import { InjectPool, OutboxWriter, type OutboxRow } from '@idp/service-kit';
import type { Pool, PoolClient } from 'pg';
import type { ResourceSchema } from '../scim/attribute-defs';
import { inTransaction, isUniqueViolation, rows, SqlBuilder } from '../db/sql';
import { VersionConflict, withRetry } from '../events/retry';
import { userFilterSql } from '../filter/filter-to-sql';
import { userOrderBy } from '../filter/sort-to-sql';
import type { ScimUser } from '../generated/prisma/client';
import type { ListQuery } from '../scim/list-query';
import type { Profile } from '../scim/request-context';
import type { JsonObject } from '../scim/schemas';
import type { UserColumns } from './user-document';
import type { GroupRef } from './user-resource';
import { USER_COLUMNS, USER_RETURNING } from './user-sql';

/** A group the user belongs to, as a user delete reports it. */
export interface UserGroupRow {
  id: string;
  displayName: string;
  externalId: string | null;
}

/**
 * Locks the groups a user is in (in id order, as every multi-group lock is taken), before the user
 * row is locked: see UsersRepository.delete.
 */
const LOCK_GROUPS_OF_USER = `SELECT g.id FROM scim_groups g
  WHERE g.id IN (SELECT m.group_id FROM scim_memberships m JOIN scim_users u ON u.id = m.user_id WHERE m.user_id = $1 AND u.directory_id = $2)
  ORDER BY g.id COLLATE "C" FOR NO KEY UPDATE`;

/** Rolls a user update back when its groups changed under it (reported as 'stale'). */
class StaleGroups extends Error {}

/** The stored columns and document, in the order insert and update both bind them ($3-$9). */
const documentParams = (c: UserColumns, doc: JsonObject): unknown[] => [
  c.userName,
  c.userNameLower,
  c.externalId,
  c.displayName,
  c.active,
  c.emailsLower,
  doc,
];

/**
 * scim_users on the service pool (pg, not Prisma: these are the SCIM hot paths). Lookups, create
 * and update are single statements; a change and its outbox event are written by one statement
 * (a data-modifying CTE), so they commit together without an explicit transaction. A delete, and
 * an update that changes displayName, also give the user's groups a new version: those run in a
 * transaction that locks the groups first.
 */
@Injectable()
export class UsersRepository {
  constructor(
    @InjectPool() private readonly pool: Pool,
    private readonly outbox: OutboxWriter,
  ) {}

  /** Inserts the user with its event; undefined when the userName is taken in the directory. */
  async insert(
    directoryId: string,
    id: string,
    cols: UserColumns,
    doc: JsonObject,
    event: OutboxRow,
  ): Promise<ScimUser | undefined> {
    const ev = this.outbox.cteStep('ev', 'ins', 10, event);
    const [row] = await rows<ScimUser>(
      this.pool,
      `WITH ins AS (
         INSERT INTO scim_users (id, directory_id, user_name, user_name_lower, external_id, display_name, active, emails_lower, data, deactivated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $7 THEN NULL ELSE now() END)
         ON CONFLICT (directory_id, user_name_lower) DO NOTHING
         RETURNING ${USER_RETURNING}),
       ${ev.sql}
       SELECT * FROM ins`,
      [id, directoryId, ...documentParams(cols, doc), ...ev.params],
    );
    return row;
  }

  /**
   * Runs `fn` in a transaction that first takes a lock on the user id which the user's PATCH and
   * PUT writers take when they lost an optimistic race: they then queue instead of retrying into
   * each other (100 concurrent PATCHes of one user starved). The lock is advisory and taken
   * before any row lock, and group changes never take it, so it adds no lock-order cycle.
   */
  serialized<T>(id: string, fn: (db: PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`scim_user:${id}`]);
      return fn(c);
    });
  }

  async find(
    directoryId: string,
    id: string,
    db: Pool | PoolClient = this.pool,
  ): Promise<ScimUser | undefined> {
    const [row] = await rows<ScimUser>(
      db,
      `SELECT ${USER_COLUMNS} FROM scim_users u WHERE u.id = $1 AND u.directory_id = $2`,
      [id, directoryId],
    );
    return row;
  }

  /** The groups of each user, ordered by name. */
  async groupsOf(userIds: string[]): Promise<Map<string, GroupRef[]>> {
    const out = new Map<string, GroupRef[]>();
    if (!userIds.length) return out;
    const found = await rows<{ user_id: string; id: string; display_name: string }>(
      this.pool,
      'SELECT m.user_id, g.id, g.display_name FROM scim_memberships m JOIN scim_groups g ON g.id = m.group_id WHERE m.user_id = ANY($1::text[]) ORDER BY g.display_name_lower, g.id',
      [userIds],
    );
    for (const r of found)
      out.set(r.user_id, [
        ...(out.get(r.user_id) ?? []),
        { id: r.id, displayName: r.display_name },
      ]);
    return out;
  }

  /**
   * One page of a directory's users and the total matching the filter. One statement for the page
   * and the total (window count); a separate count only after a cursor (the window counts only the
   * rest) or when the page is empty past the start (the window counts nothing).
   */
  async list(
    directoryId: string,
    profile: Profile,
    q: ListQuery,
    schema?: ResourceSchema,
  ): Promise<{ rows: ScimUser[]; total: number }> {
    const b = new SqlBuilder();
    const where = [
      `u.directory_id = ${b.add(directoryId)}`,
      ...(q.filter ? [userFilterSql(q.filter, profile, b, schema)] : []),
    ];
    const cursorMode = q.cursor !== undefined;
    const countParams = [...b.params];
    const page = [...where, ...(cursorMode && q.cursor ? [`u.id > ${b.add(q.cursor)}`] : [])];
    const withTotal = await rows<ScimUser & { total: number }>(
      this.pool,
      `SELECT ${USER_COLUMNS}, count(*) OVER ()::int AS total FROM scim_users u WHERE ${page.join(' AND ')} ORDER BY ${q.sortBy ? userOrderBy(q.sortBy, q.sortOrder, schema) : 'u.id'} LIMIT ${b.add(Math.max(q.count, 1))} OFFSET ${b.add(cursorMode ? 0 : q.startIndex - 1)}`,
      b.params,
    );
    let total = withTotal[0]?.total ?? 0;
    if (cursorMode || (withTotal.length === 0 && q.startIndex > 1)) {
      const [c] = await rows<{ n: number }>(
        this.pool,
        `SELECT count(*)::int AS n FROM scim_users u WHERE ${where.join(' AND ')}`,
        countParams,
      );
      total = c?.n ?? 0;
    }
    const found = (q.count === 0 ? [] : withTotal).map(({ total: _t, ...r }) => r as ScimUser);
    return { rows: found, total };
  }

  /**
   * Writes a new document under the optimistic version check, with its event, in one statement:
   * the row, 'stale' when the version moved on, 'taken' when the new userName is another user's.
   * A new displayName shows as `members[].display` of the user's groups, so they get a new
   * version too; that write locks the groups first (lock order: groups, then users).
   */
  async update(
    cur: ScimUser,
    cols: UserColumns,
    doc: JsonObject,
    event: OutboxRow,
    /** A transaction to write in (see serialized); its caller rolls it back on 'stale' or 'taken'. */
    tx?: PoolClient,
  ): Promise<ScimUser | 'stale' | 'taken'> {
    const ev = this.outbox.cteStep('ev', 'up', 10, event);
    const params = [cur.id, cur.version, ...documentParams(cols, doc), ...ev.params];
    const sql = `WITH up AS (
           UPDATE scim_users SET user_name = $3, user_name_lower = $4, external_id = $5, display_name = $6, active = $7, emails_lower = $8, data = $9,
             updated_at = now(), version = version + 1,
             deactivated_at = CASE WHEN $7 THEN NULL WHEN active THEN now() ELSE deactivated_at END
           WHERE id = $1 AND version = $2
           RETURNING ${USER_RETURNING}),
         ${ev.sql}
         SELECT * FROM up`;
    try {
      if ((cols.displayName || null) === (cur.displayName || null)) {
        const [row] = await rows<ScimUser>(tx ?? this.pool, sql, params);
        return row ?? 'stale';
      }
      const inTx = <T>(fn: (c: PoolClient) => Promise<T>): Promise<T> =>
        tx ? fn(tx) : inTransaction(this.pool, fn);
      return await inTx(async (c) => {
        const locked = new Set(
          (await rows<{ id: string }>(c, LOCK_GROUPS_OF_USER, [cur.id, cur.directoryId])).map(
            (g) => g.id,
          ),
        );
        const [row] = await rows<ScimUser>(c, sql, params);
        if (!row) return 'stale';
        const groups = await rows<{ group_id: string }>(
          c,
          'SELECT group_id FROM scim_memberships WHERE user_id = $1',
          [cur.id],
        );
        // A group joined since the groups were locked: start over (the caller retries 'stale').
        if (groups.some((g) => !locked.has(g.group_id))) throw new StaleGroups();
        if (groups.length)
          await c.query(
            'UPDATE scim_groups SET version = version + 1, updated_at = now() WHERE id = ANY($1::text[])',
            [groups.map((g) => g.group_id)],
          );
        return row;
      });
    } catch (e) {
      if (e instanceof StaleGroups) return 'stale';
      if (isUniqueViolation(e)) return 'taken';
      throw e;
    }
  }

  /**
   * Deletes a user in one transaction: locks the row, hands it and its groups to `decide` (which
   * may throw to abort, e.g. on an If-Match mismatch, and returns the events to stage), deletes it
   * (memberships go by FK cascade), gives each of its groups a new version and lastModified (their
   * `members` changed) and writes the events. False when there is no such user.
   *
   * Lock order is groups, then users, as in group changes (which lock the group, then add or bump
   * members): the user's groups are locked first, then the user. A group joined in between (its
   * change committed before the user lock) is not locked: the attempt is retried.
   */
  async delete(
    directoryId: string,
    id: string,
    decide: (cur: ScimUser, groups: UserGroupRow[]) => OutboxRow[],
  ): Promise<boolean> {
    return withRetry(() =>
      inTransaction(this.pool, async (c) => {
        const locked = new Set(
          (await rows<{ id: string }>(c, LOCK_GROUPS_OF_USER, [id, directoryId])).map((g) => g.id),
        );
        const [cur] = await rows<ScimUser>(
          c,
          `SELECT ${USER_COLUMNS} FROM scim_users u WHERE u.id = $1 AND u.directory_id = $2 FOR UPDATE`,
          [id, directoryId],
        );
        if (!cur) return false;
        const groups = await rows<UserGroupRow>(
          c,
          'SELECT g.id, g.display_name AS "displayName", g.external_id AS "externalId" FROM scim_memberships m JOIN scim_groups g ON g.id = m.group_id WHERE m.user_id = $1',
          [id],
        );
        if (groups.some((g) => !locked.has(g.id))) throw new VersionConflict();
        const events = decide(cur, groups);
        await c.query('DELETE FROM scim_users WHERE id = $1', [id]);
        if (groups.length)
          await c.query(
            'UPDATE scim_groups SET version = version + 1, updated_at = now() WHERE id = ANY($1::text[])',
            [groups.map((g) => g.id)],
          );
        await this.outbox.write(c, events);
        return true;
      }),
    );
  }
}
