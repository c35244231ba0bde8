import { Inject, Injectable } from '@nestjs/common';
import { ScimGroupCreated, ScimGroupDeleted, ScimGroupUpdated } from '@idp/contracts';
import { randomUUID } from 'node:crypto';
import { SCIM_CONFIG, type ScimConfig } from '../config';
import { PrismaService, type Tx } from '../db/prisma.service';
import { stage } from '../events/outbox-staging';
import { VersionConflict, withRetry } from '../events/retry';
import { groupWhere } from '../filter/filter-to-where';
import type { Prisma, ScimGroup } from '../generated/prisma/client';
import { parsePatchRequest } from '../patch/patch-request';
import { checkAwsMembershipChanges } from '../profiles/aws-profile';
import { GROUP_SCHEMA } from '../scim/attribute-defs';
import { encodeCursor, type ListQuery } from '../scim/list-query';
import { checkIfMatch } from '../scim/meta';
import { project, wants } from '../scim/projection';
import type { ScimContext } from '../scim/request-context';
import { ScimError } from '../scim/scim-error';
import { URN, type JsonObject } from '../scim/schemas';
import type { ListResult } from '../users/users.service';
import { groupColumns, splitGroup } from './group-document';
import { toGroupResource, type MemberRef } from './group-resource';
import { planGroupPatch } from './member-ops';
import { applyMemberActions, MembershipDelta } from './membership-store';

/** Events carry at most this many ids per list, so a 100k-member change stays under NATS's payload limit. */
const EVENT_IDS = 1000;

@Injectable()
export class GroupsService {
  constructor(
    private readonly db: PrismaService,
    @Inject(SCIM_CONFIG) private readonly config: ScimConfig,
  ) {}

  get maxPage(): number {
    return this.config.SCIM_MAX_PAGE_SIZE;
  }

  private async stageGroup(tx: Tx, ctx: ScimContext, contract: typeof ScimGroupCreated, g: ScimGroup, delta?: MembershipDelta): Promise<void> {
    const added = [...(delta?.added ?? [])];
    const removed = [...(delta?.removed ?? [])];
    const base = { directoryId: g.directoryId, requestId: ctx.requestId, groupId: g.id, externalId: g.externalId, displayName: g.displayName };
    let i = 0;
    do {
      await stage(tx, contract, { ...base, membersAdded: added.slice(i, i + EVENT_IDS), membersRemoved: removed.slice(i, i + EVENT_IDS) });
      i += EVENT_IDS;
    } while (i < added.length || i < removed.length);
  }

  private async membersOf(groupIds: string[]): Promise<Map<string, MemberRef[]>> {
    const out = new Map<string, MemberRef[]>(groupIds.map((id) => [id, []]));
    if (!groupIds.length) return out;
    const rows = await this.db.$queryRaw<{ group_id: string; id: string; display_name: string | null }[]>`
      SELECT m.group_id, u.id, u.display_name FROM scim_memberships m JOIN scim_users u ON u.id = m.user_id
      WHERE m.group_id = ANY(${groupIds}::text[]) ORDER BY m.group_id, m.created_at, u.id`;
    for (const r of rows) out.get(r.group_id)?.push({ id: r.id, displayName: r.display_name });
    return out;
  }

  /** AWS never returns members on group reads; elsewhere they are loaded only when the projection keeps them. */
  private async render(ctx: ScimContext, rows: ScimGroup[], attributes?: string[], excluded?: string[]): Promise<JsonObject[]> {
    const load = ctx.profile !== 'aws' && wants('members', GROUP_SCHEMA, attributes, excluded);
    const members = load ? await this.membersOf(rows.map((r) => r.id)) : undefined;
    return rows.map((r) => project(toGroupResource(r, ctx.baseUrl, ctx.profile === 'aws' ? [] : members?.get(r.id)), GROUP_SCHEMA, attributes, excluded));
  }

  private async find(tx: Tx | PrismaService, ctx: ScimContext, id: string): Promise<ScimGroup> {
    const row = await tx.scimGroup.findFirst({ where: { id, directoryId: ctx.directoryId } });
    if (!row) throw ScimError.notFound('Group', id);
    return row;
  }

  async create(ctx: ScimContext, body: unknown): Promise<JsonObject> {
    const { doc, memberIds } = splitGroup(body);
    const cols = groupColumns(doc);
    if (ctx.profile === 'aws') checkAwsMembershipChanges(memberIds?.length ?? 0);
    const row = await this.db.$transaction(
      async (tx) => {
        if (ctx.profile === 'aws') {
          const clash = await tx.scimGroup.findFirst({ where: { directoryId: ctx.directoryId, displayNameLower: cols.displayNameLower }, select: { id: true } });
          if (clash) throw ScimError.uniqueness(`A group named ${cols.displayName} already exists`);
        }
        const now = new Date();
        const g = await tx.scimGroup.create({ data: { id: randomUUID(), directoryId: ctx.directoryId, ...cols, data: doc as Prisma.InputJsonObject, createdAt: now, updatedAt: now } });
        const delta = new MembershipDelta();
        if (memberIds?.length) await applyMemberActions(tx, ctx.directoryId, g.id, [{ kind: 'add', ids: memberIds }], delta);
        await this.stageGroup(tx, ctx, ScimGroupCreated, g, delta);
        return g;
      },
      { timeout: 60_000 },
    );
    ctx.call.resourceId = row.id;
    return (await this.render(ctx, [row]))[0];
  }

  async get(ctx: ScimContext, id: string, attributes?: string[], excluded?: string[]): Promise<JsonObject> {
    ctx.call.resourceId = id;
    return (await this.render(ctx, [await this.find(this.db, ctx, id)], attributes, excluded))[0];
  }

  async list(ctx: ScimContext, q: ListQuery): Promise<ListResult> {
    const where: Prisma.ScimGroupWhereInput = { directoryId: ctx.directoryId, ...(q.filter ? { AND: [groupWhere(q.filter, ctx.profile)] } : {}) };
    const cursorMode = q.cursor !== undefined;
    const [total, rows] = await Promise.all([
      this.db.scimGroup.count({ where }),
      q.count === 0
        ? Promise.resolve([] as ScimGroup[])
        : this.db.scimGroup.findMany({
            where: cursorMode && q.cursor ? { AND: [where, { id: { gt: q.cursor } }] } : where,
            orderBy: { id: 'asc' },
            skip: cursorMode ? 0 : q.startIndex - 1,
            take: q.count,
          }),
    ]);
    const out: ListResult = {
      schemas: [URN.listResponse],
      totalResults: total,
      itemsPerPage: rows.length,
      startIndex: cursorMode ? 1 : q.startIndex,
      Resources: await this.render(ctx, rows, q.attributes, q.excludedAttributes),
    };
    if (cursorMode && rows.length === q.count && rows.length > 0) out.nextCursor = encodeCursor(rows[rows.length - 1].id);
    return out;
  }

  /** Bumps the version under the optimistic check and stages the event with the membership delta. */
  private async commit(tx: Tx, ctx: ScimContext, cur: ScimGroup, doc: JsonObject, delta: MembershipDelta): Promise<ScimGroup> {
    const cols = groupColumns(doc);
    const now = new Date();
    const n = await tx.scimGroup.updateMany({ where: { id: cur.id, version: cur.version }, data: { ...cols, data: doc as Prisma.InputJsonObject, updatedAt: now, version: { increment: 1 } } });
    if (n.count === 0) throw new VersionConflict();
    const g: ScimGroup = { ...cur, ...cols, data: doc as Prisma.JsonValue, updatedAt: now, version: cur.version + 1 };
    await this.stageGroup(tx, ctx, ScimGroupUpdated, g, delta);
    return g;
  }

  async patch(ctx: ScimContext, id: string, body: unknown, ifMatch?: string | string[]): Promise<void> {
    ctx.call.resourceId = id;
    const ops = parsePatchRequest(body);
    await withRetry(() =>
      this.db.$transaction(
        async (tx) => {
          const cur = await this.find(tx, ctx, id);
          checkIfMatch(ifMatch, cur.version);
          const plan = planGroupPatch(cur.data as JsonObject, ops, ctx.profile);
          const delta = new MembershipDelta();
          await applyMemberActions(tx, ctx.directoryId, id, plan.actions, delta);
          if (!plan.docChanged && delta.empty) return;
          await this.commit(tx, ctx, cur, plan.doc, delta);
        },
        { timeout: 60_000 },
      ),
    );
  }

  async replace(ctx: ScimContext, id: string, body: unknown, ifMatch?: string | string[]): Promise<JsonObject> {
    ctx.call.resourceId = id;
    if (ctx.profile === 'aws') throw new ScimError(400, undefined, 'PutGroup is not supported; use PATCH');
    const { doc, memberIds } = splitGroup(body);
    const row = await withRetry(() =>
      this.db.$transaction(
        async (tx) => {
          const cur = await this.find(tx, ctx, id);
          checkIfMatch(ifMatch, cur.version);
          const delta = new MembershipDelta();
          if (memberIds !== undefined) {
            const want = new Set(memberIds);
            const have = await tx.scimMembership.findMany({ where: { groupId: id }, select: { userId: true } });
            const gone = have.map((h) => h.userId).filter((u) => !want.has(u));
            await applyMemberActions(tx, ctx.directoryId, id, [{ kind: 'remove', ids: gone }, { kind: 'add', ids: memberIds }], delta);
          }
          return this.commit(tx, ctx, cur, doc, delta);
        },
        { timeout: 60_000 },
      ),
    );
    return (await this.render(ctx, [row]))[0];
  }

  async delete(ctx: ScimContext, id: string, ifMatch?: string | string[]): Promise<void> {
    ctx.call.resourceId = id;
    await this.db.$transaction(async (tx) => {
      const cur = await this.find(tx, ctx, id);
      checkIfMatch(ifMatch, cur.version);
      await tx.scimGroup.delete({ where: { id } });
      await this.stageGroup(tx, ctx, ScimGroupDeleted, cur);
    });
  }
}
