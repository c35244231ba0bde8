import { Inject, Injectable } from '@nestjs/common';
import {
  ScimGroupUpdated,
  ScimUserCreated,
  ScimUserDeactivated,
  ScimUserDeleted,
  ScimUserReactivated,
  ScimUserUpdated,
} from '@idp/contracts';
import { OutboxWriter, type OutboxRow } from '@idp/service-kit';
import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import { SCIM_CONFIG, type ScimConfig } from '../config';
import { isLostRace, VersionConflict, withRetry } from '../events/retry';
import type { ScimUser } from '../generated/prisma/client';
import { applyPatch } from '../patch/apply-patch';
import { jsonEqual } from '../patch/json-equal';
import { parsePatchRequest } from '../patch/patch-request';
import { patchTargets } from '../patch/patch-targets';
import { checkAwsUser, checkAwsUserPatch } from '../profiles/aws-profile';
import { encodeCursor, type ListQuery } from '../scim/list-query';
import { checkIfMatch, etagOf } from '../scim/meta';
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
import { keyCI } from '../scim/json-ci';
import { isObject, URN, type JsonObject } from '../scim/schemas';
import { checkPatchTargets } from '../scim/write-schema';
import { KeyedQueue } from './keyed-queue';
import { normaliseUser, userColumns, type UserColumns } from './user-document';
import { toUserResource } from './user-resource';
import { UsersRepository } from './users.repository';

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
 * Users: the SCIM use cases. Storage is UsersRepository's (each change is written with its outbox
 * event in one statement); a PATCH or PUT is guarded by the row version and retried on a race.
 */
@Injectable()
export class UsersService {
  /** Writers of one user that lost an optimistic race, queued here before the database lock. */
  private readonly losers = new KeyedQueue();

  constructor(
    private readonly repo: UsersRepository,
    private readonly outbox: OutboxWriter,
    @Inject(SCIM_CONFIG) private readonly config: ScimConfig,
  ) {}

  get maxPage(): number {
    return this.config.SCIM_MAX_PAGE_SIZE;
  }

  private prepare(ctx: ScimContext, body: unknown): JsonObject {
    if (!isObject(body)) throw ScimError.invalidSyntax('Request body must be a User object');
    const doc = normaliseUser(body, undefined, ctx.userSchema);
    if (ctx.profile === 'aws') checkAwsUser(doc);
    return doc;
  }

  private event(
    ctx: ScimContext,
    contract: typeof ScimUserCreated,
    id: string,
    cols: UserColumns,
  ): OutboxRow {
    return this.outbox.row(contract, {
      directoryId: ctx.directoryId,
      requestId: ctx.requestId,
      userId: id,
      externalId: cols.externalId,
      userName: cols.userName,
      active: cols.active,
    });
  }

  /**
   * A written user as the response shows it: projected, `groups` included unless the projection
   * leaves it out (returned "default", RFC 7643 §2.4: in every response that returns the user).
   */
  private async respond(ctx: ScimContext, row: ScimUser, p: Projection): Promise<Written> {
    const groups = wants('groups', ctx.userSchema, p.attributes, p.excluded)
      ? (await this.repo.groupsOf([row.id])).get(row.id)
      : undefined;
    return written(toUserResource(row, ctx.baseUrl, groups), ctx.userSchema, p);
  }

  async create(ctx: ScimContext, body: unknown, p: Projection = {}): Promise<Written> {
    checkProjection(p, ctx.userSchema);
    const doc = this.prepare(ctx, body);
    const cols = userColumns(doc);
    const id = randomUUID();
    const row = await withRetry(() =>
      this.repo.insert(ctx.directoryId, id, cols, doc, this.event(ctx, ScimUserCreated, id, cols)),
    );
    if (!row) throw uniqueness(cols.userName);
    ctx.call.resourceId = row.id;
    return this.respond(ctx, row, p);
  }

  private async find(ctx: ScimContext, id: string, db?: PoolClient): Promise<ScimUser> {
    if (!validId(id)) throw ScimError.notFound('User', id);
    const row = await this.repo.find(ctx.directoryId, id, db);
    if (!row) throw ScimError.notFound('User', id);
    return row;
  }

  async get(
    ctx: ScimContext,
    id: string,
    attributes?: string[],
    excluded?: string[],
  ): Promise<Read> {
    ctx.call.resourceId = id;
    const row = await this.find(ctx, id);
    const groups = wants('groups', ctx.userSchema, attributes, excluded)
      ? (await this.repo.groupsOf([id])).get(id)
      : undefined;
    return {
      resource: project(
        toUserResource(row, ctx.baseUrl, groups),
        ctx.userSchema,
        attributes,
        excluded,
      ),
      etag: etagOf(row.version),
    };
  }

  async list(ctx: ScimContext, q: ListQuery): Promise<ListResult> {
    const cursorMode = q.cursor !== undefined;
    const { rows: found, total } = await this.repo.list(
      ctx.directoryId,
      ctx.profile,
      q,
      ctx.userSchema,
    );
    // groups is returned "default" (RFC 7643 §2.4), in lists too: one query for the page's users,
    // skipped when the projection leaves it out (`excludedAttributes=groups`, `attributes=userName`).
    const groups =
      found.length && wants('groups', ctx.userSchema, q.attributes, q.excludedAttributes)
        ? await this.repo.groupsOf(found.map((r) => r.id))
        : undefined;
    const out: ListResult = {
      schemas: [URN.listResponse],
      totalResults: total,
      itemsPerPage: found.length,
      startIndex: cursorMode ? 1 : q.startIndex,
      Resources: found.map((r) =>
        project(
          toUserResource(r, ctx.baseUrl, groups?.get(r.id)),
          ctx.userSchema,
          q.attributes,
          q.excludedAttributes,
        ),
      ),
    };
    const last = found.at(-1);
    if (cursorMode && found.length === q.count && last) out.nextCursor = encodeCursor(last.id);
    return out;
  }

  /**
   * A PATCH or PUT of one user: reads it, checks If-Match, lets `next` compute the new document
   * (undefined: nothing changes) and writes it under the optimistic version check. The first
   * attempt is one statement without a transaction (the uncontended case); once it lost a race,
   * attempts queue behind the user's other writers (UsersRepository.serialized) and are retried
   * only when a group change bumped the version meanwhile.
   */
  private async change(
    ctx: ScimContext,
    id: string,
    ifMatch: string | string[] | undefined,
    next: (cur: ScimUser) => JsonObject | undefined,
  ): Promise<ScimUser> {
    const attempt = async (db?: PoolClient): Promise<ScimUser> => {
      const cur = await this.find(ctx, id, db);
      checkIfMatch(ifMatch, cur.version);
      const doc = next(cur);
      return doc === undefined ? cur : this.write(ctx, cur, doc, db);
    };
    try {
      return await attempt();
    } catch (e) {
      if (!(e instanceof VersionConflict || isLostRace(e))) throw e;
    }
    // Queued in this process first: waiting for the database lock holds a pool connection, and a
    // burst of one user's writes waiting there took the whole pool from every other request.
    // A wait there is bounded as one for the database lock would be, by the statement timeout.
    const queued = Date.now();
    const limit = this.config.DATABASE_STATEMENT_TIMEOUT_MS;
    return this.losers.run(id, () => {
      if (limit > 0 && Date.now() - queued >= limit)
        throw new ScimError(
          503,
          undefined,
          'The user is being changed by other requests; retry later',
        );
      return withRetry(() => this.repo.serialized(id, attempt));
    });
  }

  /** Writes a new document under the optimistic version check, with its event, in one statement. */
  private async write(
    ctx: ScimContext,
    cur: ScimUser,
    doc: JsonObject,
    db?: PoolClient,
  ): Promise<ScimUser> {
    const cols = userColumns(doc);
    const contract =
      cur.active && !cols.active
        ? ScimUserDeactivated
        : !cur.active && cols.active
          ? ScimUserReactivated
          : ScimUserUpdated;
    const row = await this.repo.update(cur, cols, doc, this.event(ctx, contract, cur.id, cols), db);
    if (row === 'stale') throw new VersionConflict();
    if (row === 'taken') throw uniqueness(cols.userName);
    return row;
  }

  async replace(
    ctx: ScimContext,
    id: string,
    body: unknown,
    ifMatch?: string | string[],
    p: Projection = {},
  ): Promise<Written> {
    ctx.call.resourceId = id;
    checkProjection(p, ctx.userSchema);
    const doc = this.prepare(ctx, body);
    const row = await this.change(ctx, id, ifMatch, (cur) => {
      // A PUT without `active` (from a client that does not manage it) keeps the stored flag:
      // absent reads as true and would re-enable a user another client disabled (RFC 7644
      // §3.5.1 lets the provider keep values of attributes not sent).
      const keep = keyCI(doc, 'active') === undefined && !cur.active;
      return keep ? { ...doc, active: false } : doc;
    });
    return this.respond(ctx, row, p);
  }

  async patch(
    ctx: ScimContext,
    id: string,
    body: unknown,
    ifMatch?: string | string[],
    p: Projection = {},
  ): Promise<Written> {
    ctx.call.resourceId = id;
    checkProjection(p, ctx.userSchema);
    const ops = parsePatchRequest(body);
    if (ctx.profile === 'aws') checkAwsUserPatch(patchTargets(ops, ctx.userSchema));
    checkPatchTargets(ops, ctx.userSchema);
    const row = await this.change(ctx, id, ifMatch, (cur) => {
      const stored = cur.data as JsonObject;
      // The result is checked as a PUT body would be, except what it left as stored.
      const doc = normaliseUser(applyPatch(stored, ops, ctx.userSchema), stored, ctx.userSchema);
      if (ctx.profile === 'aws') checkAwsUser(doc);
      // Nothing changed (a remove that matched nothing, a value set to what it was): no new
      // version, no lastModified, no event.
      return jsonEqual(doc, stored) ? undefined : doc;
    });
    return this.respond(ctx, row, p);
  }

  async delete(ctx: ScimContext, id: string, ifMatch?: string | string[]): Promise<void> {
    ctx.call.resourceId = id;
    const found = await this.repo.delete(ctx.directoryId, id, (cur, groups) => {
      checkIfMatch(ifMatch, cur.version);
      // Memberships go with the user; each affected group reports the removal.
      return [
        this.event(ctx, ScimUserDeleted, id, {
          ...userColumns(cur.data as JsonObject),
          active: cur.active,
        }),
        ...groups.map((g) =>
          this.outbox.row(ScimGroupUpdated, {
            directoryId: ctx.directoryId,
            requestId: ctx.requestId,
            groupId: g.id,
            externalId: g.externalId,
            displayName: g.displayName,
            membersAdded: [],
            membersRemoved: [id],
          }),
        ),
      ];
    });
    if (!found) throw ScimError.notFound('User', id);
  }
}
