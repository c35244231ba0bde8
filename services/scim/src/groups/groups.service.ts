import { Inject, Injectable } from '@nestjs/common';
import { ScimGroupCreated, ScimGroupDeleted, ScimGroupUpdated } from '@idp/contracts';
import { OutboxWriter, type OutboxRow } from '@idp/service-kit';
import { randomUUID } from 'node:crypto';
import { SCIM_CONFIG, type ScimConfig } from '../config';
import { VersionConflict, withRetry } from '../events/retry';
import type { ScimGroup } from '../generated/prisma/client';
import { parsePatchRequest } from '../patch/patch-request';
import { checkAwsMembershipChanges } from '../profiles/aws-profile';
import { encodeCursor, type ListQuery } from '../scim/list-query';
import { checkIfMatch, etagOf } from '../scim/meta';
import { jsonEqual } from '../patch/json-equal';
import {
  checkProjection,
  project,
  wants,
  written,
  type Projection,
  type Read,
  type Written,
} from '../scim/projection';
import type { ScimContext } from '../scim/request-context';
import { ScimError, validId } from '../scim/scim-error';
import { URN, type JsonObject } from '../scim/schemas';
import type { ListResult } from '../users/users.service';
import { checkPatchTargets } from '../scim/write-schema';
import { checkMemberValues, groupColumns, normaliseGroupPatch, splitGroup } from './group-document';
import { toGroupResource } from './group-resource';
import { GroupsRepository, type GroupsTx } from './groups.repository';
import { planGroupPatch, type MemberAction } from './member-ops';
import { MembershipDelta } from './membership-delta';

/** Events carry at most this many ids per list, so a 100k-member change stays under NATS's payload limit. */
const EVENT_IDS = 1000;

/**
 * Groups: the SCIM use cases. Members live in their own table (GroupsRepository): reads without
 * members never touch it, and a PATCH touches only the membership rows it names. Each change, its
 * membership delta and its events commit in one transaction.
 *
 * Group displayName is unique per directory, case-insensitively (409 uniqueness): Entra matches
 * groups by it and IAM Identity Center enforces it. A directory can turn this off
 * (`uniqueGroupDisplayName: false` in the admin API); the check then is skipped entirely.
 */
@Injectable()
export class GroupsService {
  constructor(
    private readonly repo: GroupsRepository,
    private readonly outbox: OutboxWriter,
    @Inject(SCIM_CONFIG) private readonly config: ScimConfig,
  ) {}

  get maxPage(): number {
    return this.config.SCIM_MAX_PAGE_SIZE;
  }

  /** The change's events: one, or more when the delta names over EVENT_IDS ids. */
  private events(
    ctx: ScimContext,
    contract: typeof ScimGroupCreated,
    g: ScimGroup,
    delta?: MembershipDelta,
  ): OutboxRow[] {
    const added = [...(delta?.added ?? [])];
    const removed = [...(delta?.removed ?? [])];
    const base = {
      directoryId: g.directoryId,
      requestId: ctx.requestId,
      groupId: g.id,
      externalId: g.externalId,
      displayName: g.displayName,
    };
    const out: OutboxRow[] = [];
    let i = 0;
    do {
      out.push(
        this.outbox.row(contract, {
          ...base,
          membersAdded: added.slice(i, i + EVENT_IDS),
          membersRemoved: removed.slice(i, i + EVENT_IDS),
        }),
      );
      i += EVENT_IDS;
    } while (i < added.length || i < removed.length);
    return out;
  }

  /** Refuses a displayName another group of the directory has, unless the directory allows duplicates. */
  private async checkName(
    tx: GroupsTx,
    ctx: ScimContext,
    cols: { displayName: string; displayNameLower: string },
    self?: string,
  ): Promise<void> {
    if (!ctx.uniqueGroupDisplayName) return;
    if (await tx.nameTaken(ctx.directoryId, cols.displayNameLower, self))
      throw ScimError.uniqueness(`A group named ${cols.displayName} already exists`);
  }

  /** Applies membership actions; an id that is not a user of the directory fails the request. */
  private async applyMembers(
    tx: GroupsTx,
    ctx: ScimContext,
    groupId: string,
    actions: MemberAction[],
    delta: MembershipDelta,
  ): Promise<void> {
    const missing = await tx.applyMemberActions(ctx.directoryId, groupId, actions, delta);
    if (missing.length)
      throw ScimError.invalidValue(
        `Unknown member id(s): ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`,
      );
  }

  /** AWS never returns members on group reads; elsewhere they are loaded only when the projection keeps them. */
  private async render(
    ctx: ScimContext,
    found: ScimGroup[],
    attributes?: string[],
    excluded?: string[],
  ): Promise<JsonObject[]> {
    const load = ctx.profile !== 'aws' && wants('members', ctx.groupSchema, attributes, excluded);
    const members = load ? await this.repo.membersOf(found.map((r) => r.id)) : undefined;
    return found.map((r) =>
      project(
        toGroupResource(r, ctx.baseUrl, ctx.profile === 'aws' ? [] : members?.get(r.id)),
        ctx.groupSchema,
        attributes,
        excluded,
      ),
    );
  }

  private async find(ctx: ScimContext, id: string, tx?: GroupsTx): Promise<ScimGroup> {
    if (!validId(id)) throw ScimError.notFound('Group', id);
    const row = await (tx
      ? tx.findForUpdate(ctx.directoryId, id)
      : this.repo.find(ctx.directoryId, id));
    if (!row) throw ScimError.notFound('Group', id);
    return row;
  }

  /** A written group as the response shows it (members loaded when the projection keeps them). */
  private async respond(ctx: ScimContext, row: ScimGroup, p: Projection): Promise<Written> {
    const load =
      ctx.profile !== 'aws' && wants('members', ctx.groupSchema, p.attributes, p.excluded);
    const members = load ? (await this.repo.membersOf([row.id])).get(row.id) : undefined;
    const full = toGroupResource(row, ctx.baseUrl, ctx.profile === 'aws' ? [] : members);
    return written(full, ctx.groupSchema, p);
  }

  /** The first rendered resource (render returns one per row). */
  private async renderOne(
    ctx: ScimContext,
    row: ScimGroup,
    attributes?: string[],
    excluded?: string[],
  ): Promise<JsonObject> {
    const [res] = await this.render(ctx, [row], attributes, excluded);
    if (!res) throw new Error('render returned no resource');
    return res;
  }

  async create(ctx: ScimContext, body: unknown, p: Projection = {}): Promise<Written> {
    checkProjection(p, ctx.groupSchema);
    const { doc, memberIds } = splitGroup(body, ctx.groupSchema);
    const cols = groupColumns(doc);
    if (ctx.profile === 'aws') checkAwsMembershipChanges(memberIds?.length ?? 0);
    const row = await withRetry(() =>
      this.repo.transaction(async (tx) => {
        await this.checkName(tx, ctx, cols);
        const g = await tx.insert(ctx.directoryId, randomUUID(), cols, doc);
        const delta = new MembershipDelta();
        if (memberIds?.length)
          await this.applyMembers(tx, ctx, g.id, [{ kind: 'add', ids: memberIds }], delta);
        await tx.writeEvents(this.events(ctx, ScimGroupCreated, g, delta));
        return g;
      }),
    );
    ctx.call.resourceId = row.id;
    return this.respond(ctx, row, p);
  }

  async get(
    ctx: ScimContext,
    id: string,
    attributes?: string[],
    excluded?: string[],
  ): Promise<Read> {
    ctx.call.resourceId = id;
    const row = await this.find(ctx, id);
    return {
      resource: await this.renderOne(ctx, row, attributes, excluded),
      etag: etagOf(row.version),
    };
  }

  async list(ctx: ScimContext, q: ListQuery): Promise<ListResult> {
    const cursorMode = q.cursor !== undefined;
    const { rows: found, total } = await this.repo.list(
      ctx.directoryId,
      ctx.profile,
      q,
      ctx.groupSchema,
    );
    const out: ListResult = {
      schemas: [URN.listResponse],
      totalResults: total,
      itemsPerPage: found.length,
      startIndex: cursorMode ? 1 : q.startIndex,
      Resources: await this.render(ctx, found, q.attributes, q.excludedAttributes),
    };
    const last = found.at(-1);
    if (cursorMode && found.length === q.count && last) out.nextCursor = encodeCursor(last.id);
    return out;
  }

  /** Bumps the version under the optimistic check and stages the event with the membership delta. */
  private async commit(
    tx: GroupsTx,
    ctx: ScimContext,
    cur: ScimGroup,
    doc: JsonObject,
    delta: MembershipDelta,
  ): Promise<ScimGroup> {
    const cols = groupColumns(doc);
    if (cols.displayNameLower !== cur.displayNameLower) await this.checkName(tx, ctx, cols, cur.id);
    const g = await tx.update(cur, cols, doc);
    if (!g) throw new VersionConflict();
    await tx.writeEvents(this.events(ctx, ScimGroupUpdated, g, delta));
    return g;
  }

  /**
   * Applies a PATCH. RFC 7644 §3.5.2: the answer is 204 without a body, or 200 with the resource
   * when the request names `attributes` (or `excludedAttributes`); only then is it rendered here
   * (a render loads the members, which Entra's member batches must not pay for).
   */
  async patch(
    ctx: ScimContext,
    id: string,
    body: unknown,
    ifMatch?: string | string[],
    p: Projection = {},
  ): Promise<Written | undefined> {
    ctx.call.resourceId = id;
    checkProjection(p, ctx.groupSchema);
    const ops = parsePatchRequest(body);
    checkPatchTargets(ops, ctx.groupSchema);
    checkMemberValues(ops, ctx.groupSchema);
    const row = await withRetry(() =>
      this.repo.transaction(async (tx) => {
        // The row lock serialises concurrent PATCHes of one group (Entra sends member batches in parallel).
        const cur = await this.find(ctx, id, tx);
        checkIfMatch(ifMatch, cur.version);
        const stored = cur.data as JsonObject;
        const plan = planGroupPatch(stored, ops, ctx.profile, ctx.groupSchema);
        // The result is checked as a PUT body would be, except what it left as stored.
        const doc = normaliseGroupPatch(plan.doc, stored, ctx.groupSchema);
        const delta = new MembershipDelta();
        await this.applyMembers(tx, ctx, id, plan.actions, delta);
        if (jsonEqual(doc, stored) && delta.empty) return cur;
        return this.commit(tx, ctx, cur, doc, delta);
      }),
    );
    return p.attributes || p.excluded ? this.respond(ctx, row, p) : undefined;
  }

  async replace(
    ctx: ScimContext,
    id: string,
    body: unknown,
    ifMatch?: string | string[],
    p: Projection = {},
  ): Promise<Written> {
    ctx.call.resourceId = id;
    if (ctx.profile === 'aws')
      throw new ScimError(400, undefined, 'PutGroup is not supported; use PATCH');
    checkProjection(p, ctx.groupSchema);
    const { doc, memberIds } = splitGroup(body, ctx.groupSchema);
    const row = await withRetry(() =>
      this.repo.transaction(async (tx) => {
        const cur = await this.find(ctx, id, tx);
        checkIfMatch(ifMatch, cur.version);
        const delta = new MembershipDelta();
        if (memberIds !== undefined) {
          const want = new Set(memberIds);
          const gone = (await tx.memberIds(id)).filter((u) => !want.has(u));
          await this.applyMembers(
            tx,
            ctx,
            id,
            [
              { kind: 'remove', ids: gone },
              { kind: 'add', ids: memberIds },
            ],
            delta,
          );
        }
        return this.commit(tx, ctx, cur, doc, delta);
      }),
    );
    return this.respond(ctx, row, p);
  }

  async delete(ctx: ScimContext, id: string, ifMatch?: string | string[]): Promise<void> {
    ctx.call.resourceId = id;
    await withRetry(() =>
      this.repo.transaction(async (tx) => {
        const cur = await this.find(ctx, id, tx);
        checkIfMatch(ifMatch, cur.version);
        await tx.delete(id);
        await tx.writeEvents(this.events(ctx, ScimGroupDeleted, cur));
      }),
    );
  }
}
