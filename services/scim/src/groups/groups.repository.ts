import { Injectable } from '@nestjs/common';
import { InjectPool, OutboxWriter, type OutboxRow } from '@idp/service-kit';
import type { Pool, PoolClient } from 'pg';
import type { ResourceSchema } from '../scim/attribute-defs';
import { inTransaction, isMissingReference, rows, SqlBuilder } from '../db/sql';
import { VersionConflict } from '../events/retry';
import { groupFilterSql } from '../filter/filter-to-sql';
import { groupOrderBy } from '../filter/sort-to-sql';
import type { ScimGroup } from '../generated/prisma/client';
import type { ListQuery } from '../scim/list-query';
import type { Profile } from '../scim/request-context';
import type { JsonObject } from '../scim/schemas';
import type { MemberRef } from './group-resource';
import { GROUP_COLUMNS, GROUP_RETURNING } from './group-sql';
import type { MemberAction } from './member-ops';
import { MembershipDelta } from './membership-delta';

/** The columns of a group extracted from its document. */
export interface GroupColumns {
  displayName: string;
  displayNameLower: string;
  externalId: string | null;
}

/** Membership ids are sent to PostgreSQL in chunks of this many. */
const CHUNK = 5000;

/**
 * New version and lastModified for the users named (their `groups` changed). Rows are locked in
 * id order (byte order, the order the ids are sorted in for chunks), so two group changes touching
 * the same users queue instead of deadlocking. Lock order across the service: groups, then users.
 */
const BUMP_USERS = `WITH t AS MATERIALIZED (
    SELECT id FROM scim_users WHERE id = ANY($1::text[]) ORDER BY id COLLATE "C" FOR NO KEY UPDATE)
  UPDATE scim_users u SET version = u.version + 1, updated_at = now() FROM t WHERE u.id = t.id`;

const selectGroup = (lock: boolean): string =>
  `SELECT ${GROUP_COLUMNS} FROM scim_groups g WHERE g.id = $1 AND g.directory_id = $2${lock ? ' FOR UPDATE' : ''}`;

/**
 * One group change inside its transaction (from GroupsRepository.transaction): the group row, its
 * membership rows, the new versions of the users whose `groups` it changed and its outbox events
 * commit or roll back together.
 */
export class GroupsTx {
  /** Users whose `groups` this transaction changed; bumped once, at the end (finish). */
  private readonly touched = new Set<string>();
  /** A group whose every member's `groups` changed (it was renamed). */
  private renamed?: string;

  constructor(
    private readonly c: PoolClient,
    private readonly outbox: OutboxWriter,
  ) {}

  /** The group, row-locked until the end of the transaction (serialises concurrent PATCHes of one group). */
  async findForUpdate(directoryId: string, id: string): Promise<ScimGroup | undefined> {
    const [row] = await rows<ScimGroup>(this.c, selectGroup(true), [id, directoryId]);
    return row;
  }

  /**
   * Whether another group of the directory (not `self`) has this lower-cased displayName. Takes a
   * transaction-scoped advisory lock on (directory, name) first, so two concurrent creates or
   * renames to one name cannot both see it free. There is no unique index: directories provisioned
   * before (or with uniqueness turned off) may hold duplicates, which stay readable and patchable.
   */
  async nameTaken(directoryId: string, lower: string, self?: string): Promise<boolean> {
    await this.c.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [
      directoryId,
      lower,
    ]);
    const clash = await rows(
      this.c,
      'SELECT 1 FROM scim_groups WHERE directory_id = $1 AND display_name_lower = $2 AND id IS DISTINCT FROM $3 LIMIT 1',
      [directoryId, lower, self ?? null],
    );
    return clash.length > 0;
  }

  async insert(
    directoryId: string,
    id: string,
    cols: GroupColumns,
    doc: JsonObject,
  ): Promise<ScimGroup> {
    const [g] = await rows<ScimGroup>(
      this.c,
      `INSERT INTO scim_groups (id, directory_id, display_name, display_name_lower, external_id, data) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${GROUP_RETURNING}`,
      [id, directoryId, cols.displayName, cols.displayNameLower, cols.externalId, doc],
    );
    if (!g) throw new Error('INSERT ... RETURNING returned no row');
    return g;
  }

  /**
   * Writes the document and bumps the version under the optimistic check; undefined when the
   * version moved on. A new displayName shows in every member's `groups[].display`, so the members
   * get a new version too.
   */
  async update(
    cur: ScimGroup,
    cols: GroupColumns,
    doc: JsonObject,
  ): Promise<ScimGroup | undefined> {
    const [g] = await rows<ScimGroup>(
      this.c,
      `UPDATE scim_groups SET display_name = $3, display_name_lower = $4, external_id = $5, data = $6, updated_at = now(), version = version + 1
       WHERE id = $1 AND version = $2 RETURNING ${GROUP_RETURNING}`,
      [cur.id, cur.version, cols.displayName, cols.displayNameLower, cols.externalId, doc],
    );
    if (g && g.displayName !== cur.displayName) this.renamed = cur.id;
    return g;
  }

  /** Deletes the group and its memberships; its members lose it from `groups`, so they get a new version. */
  async delete(id: string): Promise<void> {
    const gone = await rows<{ user_id: string }>(
      this.c,
      'DELETE FROM scim_memberships WHERE group_id = $1 RETURNING user_id',
      [id],
    );
    for (const r of gone) this.touched.add(r.user_id);
    await this.c.query('DELETE FROM scim_groups WHERE id = $1', [id]);
  }

  /**
   * Gives every user whose `groups` this transaction changed a new version and lastModified, once
   * each, in id order (chunks of sorted ids: one lock order for any number of users). Called by
   * GroupsRepository.transaction after the change, so all group locks are taken before user locks.
   */
  async finish(): Promise<void> {
    if (this.renamed) for (const id of await this.memberIds(this.renamed)) this.touched.add(id);
    // Code-unit order equals byte order for the ids stored (UUIDs), so the chunks lock in one order.
    const ids = [...this.touched].sort();
    for (let i = 0; i < ids.length; i += CHUNK)
      await this.c.query(BUMP_USERS, [ids.slice(i, i + CHUNK)]);
  }

  /** Ids of the group's members. */
  async memberIds(groupId: string): Promise<string[]> {
    const have = await rows<{ user_id: string }>(
      this.c,
      'SELECT user_id FROM scim_memberships WHERE group_id = $1',
      [groupId],
    );
    return have.map((h) => h.user_id);
  }

  /**
   * Applies membership actions in order, touching only the rows named, records the net change in
   * `delta` and marks every user it adds or removes for a new version at `finish` (ids whose add
   * and remove cancel out are not marked). Only users of the directory can be added:
   * returns the unknown ids of the first chunk that named any (the caller fails the request,
   * rolling the transaction back), else [].
   */
  async applyMemberActions(
    directoryId: string,
    groupId: string,
    actions: MemberAction[],
    delta: MembershipDelta,
  ): Promise<string[]> {
    const net = new MembershipDelta();
    const missing = await this.applyActions(directoryId, groupId, actions, net);
    if (missing.length) return missing;
    delta.add([...net.added]);
    delta.remove([...net.removed]);
    for (const id of [...net.added, ...net.removed]) this.touched.add(id);
    return [];
  }

  private async applyActions(
    directoryId: string,
    groupId: string,
    actions: MemberAction[],
    delta: MembershipDelta,
  ): Promise<string[]> {
    for (const a of actions) {
      if (a.kind === 'removeAll') {
        const gone = await rows<{ user_id: string }>(
          this.c,
          'DELETE FROM scim_memberships WHERE group_id = $1 RETURNING user_id',
          [groupId],
        );
        delta.remove(gone.map((r) => r.user_id));
      } else if (a.kind === 'remove') {
        for (let i = 0; i < a.ids.length; i += CHUNK) {
          const gone = await rows<{ user_id: string }>(
            this.c,
            'DELETE FROM scim_memberships WHERE group_id = $1 AND user_id = ANY($2::text[]) RETURNING user_id',
            [groupId, a.ids.slice(i, i + CHUNK)],
          );
          delta.remove(gone.map((r) => r.user_id));
        }
      } else if (a.ids.length) {
        for (let i = 0; i < a.ids.length; i += CHUNK) {
          const part = a.ids.slice(i, i + CHUNK);
          // The count of the directory's users found tells whether any id was unknown.
          const [r] = await rows<{ found: number; added: string[] }>(
            this.c,
            `WITH found AS (SELECT id FROM scim_users WHERE directory_id = $2 AND id = ANY($3::text[])),
                  ins AS (INSERT INTO scim_memberships (group_id, user_id) SELECT $1, id FROM found ON CONFLICT DO NOTHING RETURNING user_id)
             SELECT (SELECT count(*) FROM found)::int AS found, coalesce((SELECT array_agg(user_id) FROM ins), '{}') AS added`,
            [groupId, directoryId, part],
          ).catch((e: unknown) => {
            // A user found here was deleted (committed) while the insert waited for its row: run
            // the change again (withRetry), which then names the id as unknown.
            throw isMissingReference(e) ? new VersionConflict() : e;
          });
          if (r?.found !== part.length) return this.unknownUsers(directoryId, part);
          delta.add(r.added);
        }
      }
    }
    return [];
  }

  private async unknownUsers(directoryId: string, ids: string[]): Promise<string[]> {
    const found = await rows<{ id: string }>(
      this.c,
      'SELECT id FROM scim_users WHERE directory_id = $1 AND id = ANY($2::text[])',
      [directoryId, ids],
    );
    const known = new Set(found.map((r) => r.id));
    const missing = ids.filter((id) => !known.has(id));
    // Never empty: an id counted missing by the insert fails the request even if it appeared since.
    return missing.length ? missing : ids;
  }

  /** Stages events on this transaction (one statement). */
  async writeEvents(events: readonly OutboxRow[]): Promise<void> {
    await this.outbox.write(this.c, events);
  }
}

/**
 * scim_groups and scim_memberships on the service pool (pg: SCIM hot paths). Reads without members
 * never touch scim_memberships; changes run in `transaction` through a GroupsTx.
 */
@Injectable()
export class GroupsRepository {
  constructor(
    @InjectPool() private readonly pool: Pool,
    private readonly outbox: OutboxWriter,
  ) {}

  /** Runs `fn` in one transaction, then bumps the users it touched (GroupsTx.finish); rolls back when either throws. */
  transaction<T>(fn: (tx: GroupsTx) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, async (c) => {
      const tx = new GroupsTx(c, this.outbox);
      const out = await fn(tx);
      await tx.finish();
      return out;
    });
  }

  async find(directoryId: string, id: string): Promise<ScimGroup | undefined> {
    const [row] = await rows<ScimGroup>(this.pool, selectGroup(false), [id, directoryId]);
    return row;
  }

  /** Members of each group, in the order they were added. */
  async membersOf(groupIds: string[]): Promise<Map<string, MemberRef[]>> {
    const out = new Map<string, MemberRef[]>(groupIds.map((id) => [id, []]));
    if (!groupIds.length) return out;
    const found = await rows<{ group_id: string; id: string; display_name: string | null }>(
      this.pool,
      `SELECT m.group_id, u.id, u.display_name FROM scim_memberships m JOIN scim_users u ON u.id = m.user_id
       WHERE m.group_id = ANY($1::text[]) ORDER BY m.group_id, m.created_at, u.id`,
      [groupIds],
    );
    for (const r of found) out.get(r.group_id)?.push({ id: r.id, displayName: r.display_name });
    return out;
  }

  /** One page of a directory's groups and the total matching the filter (see UsersRepository.list). */
  async list(
    directoryId: string,
    profile: Profile,
    q: ListQuery,
    schema?: ResourceSchema,
  ): Promise<{ rows: ScimGroup[]; total: number }> {
    const b = new SqlBuilder();
    const where = [
      `g.directory_id = ${b.add(directoryId)}`,
      ...(q.filter ? [groupFilterSql(q.filter, profile, b, schema)] : []),
    ];
    const cursorMode = q.cursor !== undefined;
    const countParams = [...b.params];
    const page = [...where, ...(cursorMode && q.cursor ? [`g.id > ${b.add(q.cursor)}`] : [])];
    const withTotal = await rows<ScimGroup & { total: number }>(
      this.pool,
      `SELECT ${GROUP_COLUMNS}, count(*) OVER ()::int AS total FROM scim_groups g WHERE ${page.join(' AND ')} ORDER BY ${q.sortBy ? groupOrderBy(q.sortBy, q.sortOrder, schema) : 'g.id'} LIMIT ${b.add(Math.max(q.count, 1))} OFFSET ${b.add(cursorMode ? 0 : q.startIndex - 1)}`,
      b.params,
    );
    let total = withTotal[0]?.total ?? 0;
    // After a cursor the window only counts the rest; an empty page past the start counts nothing.
    if (cursorMode || (withTotal.length === 0 && q.startIndex > 1)) {
      const [c] = await rows<{ n: number }>(
        this.pool,
        `SELECT count(*)::int AS n FROM scim_groups g WHERE ${where.join(' AND ')}`,
        countParams,
      );
      total = c?.n ?? 0;
    }
    const found = (q.count === 0 ? [] : withTotal).map(({ total: _t, ...r }) => r as ScimGroup);
    return { rows: found, total };
  }
}
