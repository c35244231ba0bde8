import { Inject, Injectable } from '@nestjs/common';
import { ScimGroupUpdated, ScimUserCreated, ScimUserDeactivated, ScimUserDeleted, ScimUserReactivated, ScimUserUpdated } from '@idp/contracts';
import { randomUUID } from 'node:crypto';
import { SCIM_CONFIG, type ScimConfig } from '../config';
import { PrismaService, type Tx } from '../db/prisma.service';
import { stage } from '../events/outbox-staging';
import { VersionConflict, withRetry } from '../events/retry';
import { userWhere } from '../filter/filter-to-where';
import type { Prisma, ScimUser } from '../generated/prisma/client';
import { applyPatch } from '../patch/apply-patch';
import { parsePatchRequest } from '../patch/patch-request';
import { checkAwsUser } from '../profiles/aws-profile';
import { USER_SCHEMA } from '../scim/attribute-defs';
import { encodeCursor, type ListQuery } from '../scim/list-query';
import { checkIfMatch } from '../scim/meta';
import { project, wants } from '../scim/projection';
import type { ScimContext } from '../scim/request-context';
import { ScimError } from '../scim/scim-error';
import { isObject, URN, type JsonObject } from '../scim/schemas';
import { normaliseUser, userColumns } from './user-document';
import { toUserResource, type GroupRef } from './user-resource';

export interface ListResult {
  schemas: string[];
  totalResults: number;
  itemsPerPage: number;
  startIndex: number;
  Resources: JsonObject[];
  nextCursor?: string;
}

@Injectable()
export class UsersService {
  constructor(
    private readonly db: PrismaService,
    @Inject(SCIM_CONFIG) private readonly config: ScimConfig,
  ) {}

  private prepare(ctx: ScimContext, body: unknown): JsonObject {
    if (!isObject(body)) throw ScimError.invalidSyntax('Request body must be a User object');
    const doc = normaliseUser(body);
    if (ctx.profile === 'aws') checkAwsUser(doc);
    return doc;
  }

  private async stageUser(tx: Tx, ctx: ScimContext, contract: typeof ScimUserCreated, row: ScimUser): Promise<void> {
    await stage(tx, contract, {
      directoryId: row.directoryId,
      requestId: ctx.requestId,
      userId: row.id,
      externalId: row.externalId,
      userName: row.userName,
      active: row.active,
    });
  }

  async create(ctx: ScimContext, body: unknown): Promise<JsonObject> {
    const doc = this.prepare(ctx, body);
    const cols = userColumns(doc);
    const row = await this.db.$transaction(async (tx) => {
      const clash = await tx.scimUser.findUnique({ where: { directoryId_userNameLower: { directoryId: ctx.directoryId, userNameLower: cols.userNameLower } }, select: { id: true } });
      if (clash) throw ScimError.uniqueness(`userName ${cols.userName} is already taken`);
      const now = new Date();
      const created = await tx.scimUser.create({
        data: { id: randomUUID(), directoryId: ctx.directoryId, ...cols, data: doc as Prisma.InputJsonObject, createdAt: now, updatedAt: now, deactivatedAt: cols.active ? null : now },
      });
      await this.stageUser(tx, ctx, ScimUserCreated, created);
      return created;
    });
    ctx.call.resourceId = row.id;
    return toUserResource(row, ctx.baseUrl);
  }

  private async find(tx: Tx | PrismaService, ctx: ScimContext, id: string): Promise<ScimUser> {
    const row = await tx.scimUser.findFirst({ where: { id, directoryId: ctx.directoryId } });
    if (!row) throw ScimError.notFound('User', id);
    return row;
  }

  private async groupsOf(userIds: string[]): Promise<Map<string, GroupRef[]>> {
    const rows = await this.db.scimMembership.findMany({ where: { userId: { in: userIds } }, select: { userId: true, group: { select: { id: true, displayName: true } } } });
    const out = new Map<string, GroupRef[]>();
    for (const r of rows) out.set(r.userId, [...(out.get(r.userId) ?? []), r.group]);
    return out;
  }

  async get(ctx: ScimContext, id: string, attributes?: string[], excluded?: string[]): Promise<JsonObject> {
    ctx.call.resourceId = id;
    const row = await this.find(this.db, ctx, id);
    const groups = wants('groups', USER_SCHEMA, attributes, excluded) ? (await this.groupsOf([id])).get(id) : undefined;
    return project(toUserResource(row, ctx.baseUrl, groups), USER_SCHEMA, attributes, excluded);
  }

  async list(ctx: ScimContext, q: ListQuery): Promise<ListResult> {
    const where: Prisma.ScimUserWhereInput = { directoryId: ctx.directoryId, ...(q.filter ? { AND: [userWhere(q.filter, ctx.profile)] } : {}) };
    const cursorMode = q.cursor !== undefined;
    const [total, rows] = await Promise.all([
      this.db.scimUser.count({ where }),
      q.count === 0
        ? Promise.resolve([] as ScimUser[])
        : this.db.scimUser.findMany({
            where: cursorMode && q.cursor ? { AND: [where, { id: { gt: q.cursor } }] } : where,
            orderBy: { id: 'asc' },
            skip: cursorMode ? 0 : q.startIndex - 1,
            take: q.count,
          }),
    ]);
    // groups are returned in lists only when asked for: loading them for every page costs a join per page.
    const groups = q.attributes && wants('groups', USER_SCHEMA, q.attributes) ? await this.groupsOf(rows.map((r) => r.id)) : undefined;
    const out: ListResult = {
      schemas: [URN.listResponse],
      totalResults: total,
      itemsPerPage: rows.length,
      startIndex: cursorMode ? 1 : q.startIndex,
      Resources: rows.map((r) => project(toUserResource(r, ctx.baseUrl, groups?.get(r.id)), USER_SCHEMA, q.attributes, q.excludedAttributes)),
    };
    if (cursorMode && rows.length === q.count && rows.length > 0) out.nextCursor = encodeCursor(rows[rows.length - 1].id);
    return out;
  }

  /** Writes a new document for an existing user under the optimistic version check, with its event. */
  private async write(tx: Tx, ctx: ScimContext, row: ScimUser, doc: JsonObject): Promise<ScimUser> {
    const cols = userColumns(doc);
    if (cols.userNameLower !== row.userNameLower) {
      const clash = await tx.scimUser.findUnique({ where: { directoryId_userNameLower: { directoryId: ctx.directoryId, userNameLower: cols.userNameLower } }, select: { id: true } });
      if (clash && clash.id !== row.id) throw ScimError.uniqueness(`userName ${cols.userName} is already taken`);
    }
    const now = new Date();
    const deactivatedAt = cols.active ? null : row.active ? now : row.deactivatedAt;
    const n = await tx.scimUser.updateMany({
      where: { id: row.id, version: row.version },
      data: { ...cols, data: doc as Prisma.InputJsonObject, updatedAt: now, deactivatedAt, version: { increment: 1 } },
    });
    if (n.count === 0) throw new VersionConflict();
    const updated: ScimUser = { ...row, ...cols, data: doc as Prisma.JsonValue, updatedAt: now, deactivatedAt, version: row.version + 1 };
    const contract = row.active && !cols.active ? ScimUserDeactivated : !row.active && cols.active ? ScimUserReactivated : ScimUserUpdated;
    await this.stageUser(tx, ctx, contract, updated);
    return updated;
  }

  async replace(ctx: ScimContext, id: string, body: unknown, ifMatch?: string | string[]): Promise<JsonObject> {
    ctx.call.resourceId = id;
    const doc = this.prepare(ctx, body);
    const row = await withRetry(() =>
      this.db.$transaction(async (tx) => {
        const cur = await this.find(tx, ctx, id);
        checkIfMatch(ifMatch, cur.version);
        return this.write(tx, ctx, cur, doc);
      }),
    );
    return toUserResource(row, ctx.baseUrl);
  }

  async patch(ctx: ScimContext, id: string, body: unknown, ifMatch?: string | string[]): Promise<JsonObject> {
    ctx.call.resourceId = id;
    const ops = parsePatchRequest(body);
    const row = await withRetry(() =>
      this.db.$transaction(async (tx) => {
        const cur = await this.find(tx, ctx, id);
        checkIfMatch(ifMatch, cur.version);
        const doc = normaliseUser(applyPatch(cur.data as JsonObject, ops, USER_SCHEMA));
        if (ctx.profile === 'aws') checkAwsUser(doc);
        return this.write(tx, ctx, cur, doc);
      }),
    );
    return toUserResource(row, ctx.baseUrl);
  }

  async delete(ctx: ScimContext, id: string, ifMatch?: string | string[]): Promise<void> {
    ctx.call.resourceId = id;
    await this.db.$transaction(async (tx) => {
      const cur = await this.find(tx, ctx, id);
      checkIfMatch(ifMatch, cur.version);
      // Memberships go with the user (FK cascade); each affected group reports the removal.
      const groups = await tx.scimMembership.findMany({ where: { userId: id }, select: { group: { select: { id: true, displayName: true, externalId: true } } } });
      await tx.scimUser.delete({ where: { id } });
      await this.stageUser(tx, ctx, ScimUserDeleted, cur);
      for (const { group } of groups) {
        await stage(tx, ScimGroupUpdated, { directoryId: ctx.directoryId, requestId: ctx.requestId, groupId: group.id, externalId: group.externalId, displayName: group.displayName, membersAdded: [], membersRemoved: [id] });
      }
    });
  }

  get maxPage(): number {
    return this.config.SCIM_MAX_PAGE_SIZE;
  }
}
