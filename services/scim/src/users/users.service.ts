import { Inject, Injectable } from '@nestjs/common';
import {
  ScimGroupUpdated,
  ScimUserCreated,
  ScimUserDeactivated,
  ScimUserDeleted,
  ScimUserReactivated,
  ScimUserUpdated,
} from '@idp/contracts';
import { InjectPool } from '@idp/service-kit';
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { SCIM_CONFIG, type ScimConfig } from '../config';
import { inTransaction, isUniqueViolation, rows, SqlBuilder } from '../db/sql';
import { outboxRow, type OutboxRow } from '../events/outbox-row';
import { VersionConflict, withRetry } from '../events/retry';
import { userFilterSql } from '../filter/filter-to-sql';
import { userOrderBy } from '../filter/sort-to-sql';
import type { ScimUser } from '../generated/prisma/client';
import { applyPatch } from '../patch/apply-patch';
import { parsePatchRequest } from '../patch/patch-request';
import { patchTargets } from '../patch/patch-targets';
import { checkAwsUser, checkAwsUserPatch } from '../profiles/aws-profile';
import { USER_SCHEMA } from '../scim/attribute-defs';
import { encodeCursor, type ListQuery } from '../scim/list-query';
import { checkIfMatch } from '../scim/meta';
import { project, wants } from '../scim/projection';
import type { ScimContext } from '../scim/request-context';
import { ScimError, validId } from '../scim/scim-error';
import { isObject, URN, type JsonObject } from '../scim/schemas';
import { normaliseUser, userColumns, type UserColumns } from './user-document';
import { toUserResource, type GroupRef } from './user-resource';
import { USER_COLUMNS, USER_RETURNING } from './user-sql';

export interface ListResult {
  schemas: string[];
  totalResults: number;
  itemsPerPage: number;
  startIndex: number;
  Resources: JsonObject[];
  nextCursor?: string;
}

const uniqueness = (userName: string) =>
  ScimError.uniqueness(`userName ${userName} is already taken`);

/**
 * Users. The hot paths (lookups, create, PATCH) are single SQL statements on the service pool: the
 * change and its outbox event are written by one statement (a data-modifying CTE), so they commit
 * together without an explicit transaction, and a PATCH is guarded by the row version.
 */
@Injectable()
export class UsersService {
  constructor(
    @InjectPool() private readonly pool: Pool,
    @Inject(SCIM_CONFIG) private readonly config: ScimConfig,
  ) {}

  get maxPage(): number {
    return this.config.SCIM_MAX_PAGE_SIZE;
  }

  private prepare(ctx: ScimContext, body: unknown): JsonObject {
    if (!isObject(body)) throw ScimError.invalidSyntax('Request body must be a User object');
    const doc = normaliseUser(body);
    if (ctx.profile === 'aws') checkAwsUser(doc);
    return doc;
  }

  private event(
    ctx: ScimContext,
    contract: typeof ScimUserCreated,
    id: string,
    cols: UserColumns,
  ): OutboxRow {
    return outboxRow(contract, {
      directoryId: ctx.directoryId,
      requestId: ctx.requestId,
      userId: id,
      externalId: cols.externalId,
      userName: cols.userName,
      active: cols.active,
    });
  }

  async create(ctx: ScimContext, body: unknown): Promise<JsonObject> {
    const doc = this.prepare(ctx, body);
    const cols = userColumns(doc);
    const id = randomUUID();
    const ev = this.event(ctx, ScimUserCreated, id, cols);
    const [row] = await rows<ScimUser>(
      this.pool,
      `WITH ins AS (
         INSERT INTO scim_users (id, directory_id, user_name, user_name_lower, external_id, display_name, active, emails_lower, data, deactivated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $7 THEN NULL ELSE now() END)
         ON CONFLICT (directory_id, user_name_lower) DO NOTHING
         RETURNING ${USER_RETURNING}),
       ev AS (INSERT INTO outbox (id, subject, payload, trace_context) SELECT $10, $11, $12::jsonb, $13::jsonb FROM ins)
       SELECT * FROM ins`,
      [
        id,
        ctx.directoryId,
        cols.userName,
        cols.userNameLower,
        cols.externalId,
        cols.displayName,
        cols.active,
        cols.emailsLower,
        doc,
        ev.id,
        ev.subject,
        ev.payload,
        ev.traceContext,
      ],
    );
    if (!row) throw uniqueness(cols.userName);
    ctx.call.resourceId = row.id;
    return toUserResource(row, ctx.baseUrl);
  }

  private async find(ctx: ScimContext, id: string): Promise<ScimUser> {
    if (!validId(id)) throw ScimError.notFound('User', id);
    const [row] = await rows<ScimUser>(
      this.pool,
      `SELECT ${USER_COLUMNS} FROM scim_users u WHERE u.id = $1 AND u.directory_id = $2`,
      [id, ctx.directoryId],
    );
    if (!row) throw ScimError.notFound('User', id);
    return row;
  }

  private async groupsOf(userIds: string[]): Promise<Map<string, GroupRef[]>> {
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

  async get(
    ctx: ScimContext,
    id: string,
    attributes?: string[],
    excluded?: string[],
  ): Promise<JsonObject> {
    ctx.call.resourceId = id;
    const row = await this.find(ctx, id);
    const groups = wants('groups', USER_SCHEMA, attributes, excluded)
      ? (await this.groupsOf([id])).get(id)
      : undefined;
    return project(toUserResource(row, ctx.baseUrl, groups), USER_SCHEMA, attributes, excluded);
  }

  async list(ctx: ScimContext, q: ListQuery): Promise<ListResult> {
    const b = new SqlBuilder();
    const where = [
      `u.directory_id = ${b.add(ctx.directoryId)}`,
      ...(q.filter ? [userFilterSql(q.filter, ctx.profile, b)] : []),
    ];
    const cursorMode = q.cursor !== undefined;
    // One statement for the page and the total (window count); a separate count only when the page is empty past the start.
    const countParams = [...b.params];
    const page = [...where, ...(cursorMode && q.cursor ? [`u.id > ${b.add(q.cursor)}`] : [])];
    const withTotal = await rows<ScimUser & { total: number }>(
      this.pool,
      `SELECT ${USER_COLUMNS}, count(*) OVER ()::int AS total FROM scim_users u WHERE ${page.join(' AND ')} ORDER BY ${q.sortBy ? userOrderBy(q.sortBy, q.sortOrder) : 'u.id'} LIMIT ${b.add(Math.max(q.count, 1))} OFFSET ${b.add(cursorMode ? 0 : q.startIndex - 1)}`,
      b.params,
    );
    let total = withTotal[0]?.total ?? 0;
    // After a cursor the window only counts the rest; an empty page past the start counts nothing.
    if (cursorMode || (withTotal.length === 0 && q.startIndex > 1)) {
      total = (
        await rows<{ n: number }>(
          this.pool,
          `SELECT count(*)::int AS n FROM scim_users u WHERE ${where.join(' AND ')}`,
          countParams,
        )
      )[0].n;
    }
    const found: ScimUser[] = (q.count === 0 ? [] : withTotal).map(
      ({ total: _t, ...r }) => r as ScimUser,
    );
    // groups are returned in lists only when asked for: loading them for every page costs a join per page.
    const groups =
      q.attributes && wants('groups', USER_SCHEMA, q.attributes)
        ? await this.groupsOf(found.map((r) => r.id))
        : undefined;
    const out: ListResult = {
      schemas: [URN.listResponse],
      totalResults: total,
      itemsPerPage: found.length,
      startIndex: cursorMode ? 1 : q.startIndex,
      Resources: found.map((r) =>
        project(
          toUserResource(r, ctx.baseUrl, groups?.get(r.id)),
          USER_SCHEMA,
          q.attributes,
          q.excludedAttributes,
        ),
      ),
    };
    if (cursorMode && found.length === q.count && found.length > 0)
      out.nextCursor = encodeCursor(found[found.length - 1].id);
    return out;
  }

  /** Writes a new document under the optimistic version check, with its event, in one statement. */
  private async write(ctx: ScimContext, cur: ScimUser, doc: JsonObject): Promise<ScimUser> {
    const cols = userColumns(doc);
    const contract =
      cur.active && !cols.active
        ? ScimUserDeactivated
        : !cur.active && cols.active
          ? ScimUserReactivated
          : ScimUserUpdated;
    const ev = this.event(ctx, contract, cur.id, cols);
    try {
      const [row] = await rows<ScimUser>(
        this.pool,
        `WITH up AS (
           UPDATE scim_users SET user_name = $3, user_name_lower = $4, external_id = $5, display_name = $6, active = $7, emails_lower = $8, data = $9,
             updated_at = now(), version = version + 1,
             deactivated_at = CASE WHEN $7 THEN NULL WHEN active THEN now() ELSE deactivated_at END
           WHERE id = $1 AND version = $2
           RETURNING ${USER_RETURNING}),
         ev AS (INSERT INTO outbox (id, subject, payload, trace_context) SELECT $10, $11, $12::jsonb, $13::jsonb FROM up)
         SELECT * FROM up`,
        [
          cur.id,
          cur.version,
          cols.userName,
          cols.userNameLower,
          cols.externalId,
          cols.displayName,
          cols.active,
          cols.emailsLower,
          doc,
          ev.id,
          ev.subject,
          ev.payload,
          ev.traceContext,
        ],
      );
      if (!row) throw new VersionConflict();
      return row;
    } catch (e) {
      if (isUniqueViolation(e)) throw uniqueness(cols.userName);
      throw e;
    }
  }

  async replace(
    ctx: ScimContext,
    id: string,
    body: unknown,
    ifMatch?: string | string[],
  ): Promise<JsonObject> {
    ctx.call.resourceId = id;
    const doc = this.prepare(ctx, body);
    const row = await withRetry(async () => {
      const cur = await this.find(ctx, id);
      checkIfMatch(ifMatch, cur.version);
      return this.write(ctx, cur, doc);
    });
    return toUserResource(row, ctx.baseUrl);
  }

  async patch(
    ctx: ScimContext,
    id: string,
    body: unknown,
    ifMatch?: string | string[],
  ): Promise<JsonObject> {
    ctx.call.resourceId = id;
    const ops = parsePatchRequest(body);
    if (ctx.profile === 'aws') checkAwsUserPatch(patchTargets(ops, USER_SCHEMA));
    const row = await withRetry(async () => {
      const cur = await this.find(ctx, id);
      checkIfMatch(ifMatch, cur.version);
      const doc = normaliseUser(applyPatch(cur.data as JsonObject, ops, USER_SCHEMA));
      if (ctx.profile === 'aws') checkAwsUser(doc);
      return this.write(ctx, cur, doc);
    });
    return toUserResource(row, ctx.baseUrl);
  }

  async delete(ctx: ScimContext, id: string, ifMatch?: string | string[]): Promise<void> {
    ctx.call.resourceId = id;
    await inTransaction(this.pool, async (c) => {
      const [cur] = await rows<ScimUser>(
        c,
        `SELECT ${USER_COLUMNS} FROM scim_users u WHERE u.id = $1 AND u.directory_id = $2 FOR UPDATE`,
        [id, ctx.directoryId],
      );
      if (!cur) throw ScimError.notFound('User', id);
      checkIfMatch(ifMatch, cur.version);
      // Memberships go with the user (FK cascade); each affected group reports the removal.
      const groups = await rows<{ id: string; display_name: string; external_id: string | null }>(
        c,
        'SELECT g.id, g.display_name, g.external_id FROM scim_memberships m JOIN scim_groups g ON g.id = m.group_id WHERE m.user_id = $1',
        [id],
      );
      await c.query('DELETE FROM scim_users WHERE id = $1', [id]);
      const events = [
        this.event(ctx, ScimUserDeleted, id, {
          ...userColumns(cur.data as JsonObject),
          active: cur.active,
        }),
        ...groups.map((g) =>
          outboxRow(ScimGroupUpdated, {
            directoryId: ctx.directoryId,
            requestId: ctx.requestId,
            groupId: g.id,
            externalId: g.external_id,
            displayName: g.display_name,
            membersAdded: [],
            membersRemoved: [id],
          }),
        ),
      ];
      for (const e of events)
        await c.query(
          'INSERT INTO outbox (id, subject, payload, trace_context) VALUES ($1, $2, $3::jsonb, $4::jsonb)',
          [e.id, e.subject, e.payload, e.traceContext],
        );
    });
  }
}
