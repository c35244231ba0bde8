import { Inject, Injectable } from '@nestjs/common';
import { ScimGroupCreated, ScimGroupDeleted, ScimGroupUpdated } from '@idp/contracts';
import { InjectPool } from '@idp/service-kit';
import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { SCIM_CONFIG, type ScimConfig } from '../config';
import { inTransaction, rows, SqlBuilder } from '../db/sql';
import { outboxRow } from '../events/outbox-row';
import { VersionConflict, withRetry } from '../events/retry';
import { groupFilterSql } from '../filter/filter-to-sql';
import { groupOrderBy } from '../filter/sort-to-sql';
import type { ScimGroup } from '../generated/prisma/client';
import { parsePatchRequest } from '../patch/patch-request';
import { checkAwsMembershipChanges } from '../profiles/aws-profile';
import { GROUP_SCHEMA } from '../scim/attribute-defs';
import { encodeCursor, type ListQuery } from '../scim/list-query';
import { checkIfMatch } from '../scim/meta';
import { project, wants } from '../scim/projection';
import type { ScimContext } from '../scim/request-context';
import { ScimError, validId } from '../scim/scim-error';
import { URN, type JsonObject } from '../scim/schemas';
import type { ListResult } from '../users/users.service';
import { groupColumns, splitGroup } from './group-document';
import { toGroupResource, type MemberRef } from './group-resource';
import { GROUP_COLUMNS, GROUP_RETURNING } from './group-sql';
import { planGroupPatch } from './member-ops';
import { applyMemberActions, MembershipDelta } from './membership-store';

/** Events carry at most this many ids per list, so a 100k-member change stays under NATS's payload limit. */
const EVENT_IDS = 1000;

/**
 * Groups. Members live in scim_memberships: reads without members never touch that table, and a
 * PATCH touches only the membership rows it names. Each change, its membership delta and its
 * events commit in one transaction.
 */
/**
 * Group displayName is unique per directory, case-insensitively: Entra matches groups by it and IAM
 * Identity Center enforces it. Checked under a transaction-scoped advisory lock on (directory, name),
 * so two concurrent creates or renames to one name cannot both pass; no unique index, since
 * directories provisioned before may already hold duplicates (they stay readable and patchable).
 */
async function assertUniqueName(
  c: PoolClient,
  directoryId: string,
  displayName: string,
  lower: string,
  self?: string,
): Promise<void> {
  await c.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [directoryId, lower]);
  const clash = await rows(
    c,
    'SELECT 1 FROM scim_groups WHERE directory_id = $1 AND display_name_lower = $2 AND id IS DISTINCT FROM $3 LIMIT 1',
    [directoryId, lower, self ?? null],
  );
  if (clash.length) throw ScimError.uniqueness(`A group named ${displayName} already exists`);
}

@Injectable()
export class GroupsService {
  constructor(
    @InjectPool() private readonly pool: Pool,
    @Inject(SCIM_CONFIG) private readonly config: ScimConfig,
  ) {}

  get maxPage(): number {
    return this.config.SCIM_MAX_PAGE_SIZE;
  }

  private async stageGroup(
    c: PoolClient,
    ctx: ScimContext,
    contract: typeof ScimGroupCreated,
    g: ScimGroup,
    delta?: MembershipDelta,
  ): Promise<void> {
    const added = [...(delta?.added ?? [])];
    const removed = [...(delta?.removed ?? [])];
    const base = {
      directoryId: g.directoryId,
      requestId: ctx.requestId,
      groupId: g.id,
      externalId: g.externalId,
      displayName: g.displayName,
    };
    let i = 0;
    do {
      const ev = outboxRow(contract, {
        ...base,
        membersAdded: added.slice(i, i + EVENT_IDS),
        membersRemoved: removed.slice(i, i + EVENT_IDS),
      });
      await c.query(
        'INSERT INTO outbox (id, subject, payload, trace_context) VALUES ($1, $2, $3::jsonb, $4::jsonb)',
        [ev.id, ev.subject, ev.payload, ev.traceContext],
      );
      i += EVENT_IDS;
    } while (i < added.length || i < removed.length);
  }

  private async membersOf(groupIds: string[]): Promise<Map<string, MemberRef[]>> {
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

  /** AWS never returns members on group reads; elsewhere they are loaded only when the projection keeps them. */
  private async render(
    ctx: ScimContext,
    found: ScimGroup[],
    attributes?: string[],
    excluded?: string[],
  ): Promise<JsonObject[]> {
    const load = ctx.profile !== 'aws' && wants('members', GROUP_SCHEMA, attributes, excluded);
    const members = load ? await this.membersOf(found.map((r) => r.id)) : undefined;
    return found.map((r) =>
      project(
        toGroupResource(r, ctx.baseUrl, ctx.profile === 'aws' ? [] : members?.get(r.id)),
        GROUP_SCHEMA,
        attributes,
        excluded,
      ),
    );
  }

  private async find(
    db: Pool | PoolClient,
    ctx: ScimContext,
    id: string,
    lock = false,
  ): Promise<ScimGroup> {
    if (!validId(id)) throw ScimError.notFound('Group', id);
    const [row] = await rows<ScimGroup>(
      db,
      `SELECT ${GROUP_COLUMNS} FROM scim_groups g WHERE g.id = $1 AND g.directory_id = $2${lock ? ' FOR UPDATE' : ''}`,
      [id, ctx.directoryId],
    );
    if (!row) throw ScimError.notFound('Group', id);
    return row;
  }

  async create(ctx: ScimContext, body: unknown): Promise<JsonObject> {
    const { doc, memberIds } = splitGroup(body);
    const cols = groupColumns(doc);
    if (ctx.profile === 'aws') checkAwsMembershipChanges(memberIds?.length ?? 0);
    const row = await inTransaction(this.pool, async (c) => {
      await assertUniqueName(c, ctx.directoryId, cols.displayName, cols.displayNameLower);
      const [g] = await rows<ScimGroup>(
        c,
        `INSERT INTO scim_groups (id, directory_id, display_name, display_name_lower, external_id, data) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${GROUP_RETURNING}`,
        [
          randomUUID(),
          ctx.directoryId,
          cols.displayName,
          cols.displayNameLower,
          cols.externalId,
          doc,
        ],
      );
      const delta = new MembershipDelta();
      if (memberIds?.length)
        await applyMemberActions(
          c,
          ctx.directoryId,
          g.id,
          [{ kind: 'add', ids: memberIds }],
          delta,
        );
      await this.stageGroup(c, ctx, ScimGroupCreated, g, delta);
      return g;
    });
    ctx.call.resourceId = row.id;
    return (await this.render(ctx, [row]))[0];
  }

  async get(
    ctx: ScimContext,
    id: string,
    attributes?: string[],
    excluded?: string[],
  ): Promise<JsonObject> {
    ctx.call.resourceId = id;
    return (await this.render(ctx, [await this.find(this.pool, ctx, id)], attributes, excluded))[0];
  }

  async list(ctx: ScimContext, q: ListQuery): Promise<ListResult> {
    const b = new SqlBuilder();
    const where = [
      `g.directory_id = ${b.add(ctx.directoryId)}`,
      ...(q.filter ? [groupFilterSql(q.filter, ctx.profile, b)] : []),
    ];
    const cursorMode = q.cursor !== undefined;
    // One statement for the page and the total (window count); a separate count only when the page is empty past the start.
    const countParams = [...b.params];
    const page = [...where, ...(cursorMode && q.cursor ? [`g.id > ${b.add(q.cursor)}`] : [])];
    const withTotal = await rows<ScimGroup & { total: number }>(
      this.pool,
      `SELECT ${GROUP_COLUMNS}, count(*) OVER ()::int AS total FROM scim_groups g WHERE ${page.join(' AND ')} ORDER BY ${q.sortBy ? groupOrderBy(q.sortBy, q.sortOrder) : 'g.id'} LIMIT ${b.add(Math.max(q.count, 1))} OFFSET ${b.add(cursorMode ? 0 : q.startIndex - 1)}`,
      b.params,
    );
    let total = withTotal[0]?.total ?? 0;
    // After a cursor the window only counts the rest; an empty page past the start counts nothing.
    if (cursorMode || (withTotal.length === 0 && q.startIndex > 1)) {
      total = (
        await rows<{ n: number }>(
          this.pool,
          `SELECT count(*)::int AS n FROM scim_groups g WHERE ${where.join(' AND ')}`,
          countParams,
        )
      )[0].n;
    }
    const found: ScimGroup[] = (q.count === 0 ? [] : withTotal).map(
      ({ total: _t, ...r }) => r as ScimGroup,
    );
    const out: ListResult = {
      schemas: [URN.listResponse],
      totalResults: total,
      itemsPerPage: found.length,
      startIndex: cursorMode ? 1 : q.startIndex,
      Resources: await this.render(ctx, found, q.attributes, q.excludedAttributes),
    };
    if (cursorMode && found.length === q.count && found.length > 0)
      out.nextCursor = encodeCursor(found[found.length - 1].id);
    return out;
  }

  /** Bumps the version under the optimistic check and stages the event with the membership delta. */
  private async commit(
    c: PoolClient,
    ctx: ScimContext,
    cur: ScimGroup,
    doc: JsonObject,
    delta: MembershipDelta,
  ): Promise<ScimGroup> {
    const cols = groupColumns(doc);
    if (cols.displayNameLower !== cur.displayNameLower)
      await assertUniqueName(c, ctx.directoryId, cols.displayName, cols.displayNameLower, cur.id);
    const [g] = await rows<ScimGroup>(
      c,
      `UPDATE scim_groups SET display_name = $3, display_name_lower = $4, external_id = $5, data = $6, updated_at = now(), version = version + 1
       WHERE id = $1 AND version = $2 RETURNING ${GROUP_RETURNING}`,
      [cur.id, cur.version, cols.displayName, cols.displayNameLower, cols.externalId, doc],
    );
    if (!g) throw new VersionConflict();
    await this.stageGroup(c, ctx, ScimGroupUpdated, g, delta);
    return g;
  }

  async patch(
    ctx: ScimContext,
    id: string,
    body: unknown,
    ifMatch?: string | string[],
  ): Promise<void> {
    ctx.call.resourceId = id;
    const ops = parsePatchRequest(body);
    await withRetry(() =>
      inTransaction(this.pool, async (c) => {
        // The row lock serialises concurrent PATCHes of one group (Entra sends member batches in parallel).
        const cur = await this.find(c, ctx, id, true);
        checkIfMatch(ifMatch, cur.version);
        const plan = planGroupPatch(cur.data as JsonObject, ops, ctx.profile);
        const delta = new MembershipDelta();
        await applyMemberActions(c, ctx.directoryId, id, plan.actions, delta);
        if (!plan.docChanged && delta.empty) return;
        await this.commit(c, ctx, cur, plan.doc, delta);
      }),
    );
  }

  async replace(
    ctx: ScimContext,
    id: string,
    body: unknown,
    ifMatch?: string | string[],
  ): Promise<JsonObject> {
    ctx.call.resourceId = id;
    if (ctx.profile === 'aws')
      throw new ScimError(400, undefined, 'PutGroup is not supported; use PATCH');
    const { doc, memberIds } = splitGroup(body);
    const row = await withRetry(() =>
      inTransaction(this.pool, async (c) => {
        const cur = await this.find(c, ctx, id, true);
        checkIfMatch(ifMatch, cur.version);
        const delta = new MembershipDelta();
        if (memberIds !== undefined) {
          const want = new Set(memberIds);
          const have = await rows<{ user_id: string }>(
            c,
            'SELECT user_id FROM scim_memberships WHERE group_id = $1',
            [id],
          );
          const gone = have.map((h) => h.user_id).filter((u) => !want.has(u));
          await applyMemberActions(
            c,
            ctx.directoryId,
            id,
            [
              { kind: 'remove', ids: gone },
              { kind: 'add', ids: memberIds },
            ],
            delta,
          );
        }
        return this.commit(c, ctx, cur, doc, delta);
      }),
    );
    return (await this.render(ctx, [row]))[0];
  }

  async delete(ctx: ScimContext, id: string, ifMatch?: string | string[]): Promise<void> {
    ctx.call.resourceId = id;
    await inTransaction(this.pool, async (c) => {
      const cur = await this.find(c, ctx, id, true);
      checkIfMatch(ifMatch, cur.version);
      await c.query('DELETE FROM scim_groups WHERE id = $1', [id]);
      await this.stageGroup(c, ctx, ScimGroupDeleted, cur);
    });
  }
}
