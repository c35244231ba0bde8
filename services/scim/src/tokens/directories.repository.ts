import { Injectable } from '@nestjs/common';
import { OutboxWriter, prismaSql, type OutboxRow } from '@idp/service-kit';
import { AuditRepository, type Actor } from '../admin/audit.repository';
import { PrismaService } from '../db/prisma.service';
import type { Directory, Prisma, ScimDirectorySchema } from '../generated/prisma/client';
import type { ExtensionSchema } from '../scim/extension-schemas';
import { notifyInvalidation } from './token-invalidation';

/** What an admin can change on a directory; undefined leaves a setting as it is. */
export interface DirectoryChange {
  profile?: string;
  /** null = SCIM_MAX_TOKENS_PER_DIRECTORY. */
  maxTokens?: number | null;
  uniqueGroupDisplayName?: boolean;
}

/** What a directory holds, counted before a delete. */
export interface DirectoryContents {
  users: number;
  groups: number;
  /** Unrevoked, unexpired tokens. */
  liveTokens: number;
}

/** The directories table (Prisma: admin and cached lookups, off the SCIM hot paths). */
@Injectable()
export class DirectoriesRepository {
  constructor(
    private readonly db: PrismaService,
    private readonly outbox: OutboxWriter,
  ) {}

  /** Creates the directory with `change` applied, or applies it to the existing one (test fixtures). */
  async upsert(id: string, change: DirectoryChange): Promise<void> {
    await this.db.directory.upsert({ where: { id }, create: { id, ...change }, update: change });
  }

  /** Creates the directory; false when it exists already. */
  async create(id: string, settings: DirectoryChange, actor: Actor): Promise<boolean> {
    return this.db.$transaction(async (tx) => {
      const n = await tx.$executeRaw`
        INSERT INTO directories (id) VALUES (${id}) ON CONFLICT (id) DO NOTHING`;
      if (n === 0) return false;
      if (Object.keys(settings).length)
        await tx.directory.update({ where: { id }, data: settings });
      await AuditRepository.write(tx, {
        actor,
        action: 'directory.create',
        directoryId: id,
        targetId: id,
        detail: { ...settings },
      });
      return true;
    });
  }

  /**
   * Applies `change`; false when the directory does not exist, 'extensions' (nothing changed) when
   * it would become `aws` while it declares extension schemas (that profile has none).
   */
  async update(id: string, change: DirectoryChange, actor: Actor): Promise<boolean | 'extensions'> {
    return this.db.$transaction(async (tx) => {
      if (change.profile === 'aws') {
        // The lock a schema declaration takes too: neither sees the other half-done.
        const [row] = await tx.$queryRaw<{ id: string }[]>`
          SELECT id FROM directories WHERE id = ${id} FOR NO KEY UPDATE`;
        if (!row) return false;
        if ((await tx.scimDirectorySchema.count({ where: { directoryId: id } })) > 0)
          return 'extensions';
      }
      const { count } = await tx.directory.updateMany({ where: { id }, data: change });
      if (count === 0) return false;
      await AuditRepository.write(tx, {
        actor,
        action: 'directory.update',
        directoryId: id,
        targetId: id,
        detail: { ...change },
      });
      await notifyInvalidation(tx, { directoryId: id });
      return true;
    });
  }

  /** The directory's declared extension schemas, oldest first. */
  schemas(id: string): Promise<ScimDirectorySchema[]> {
    return this.db.scimDirectorySchema.findMany({
      where: { directoryId: id },
      orderBy: [{ createdAt: 'asc' }, { urnLower: 'asc' }],
    });
  }

  /**
   * Declares (or redefines) an extension schema under a lock on the directory row (so the cap and
   * the profile are checked against what is committed, and a profile change waits). Undefined: no
   * such directory; 'aws': the directory's profile has no extensions; 'full': at the cap.
   */
  async putSchema(
    id: string,
    s: ExtensionSchema,
    max: number,
    actor: Actor,
  ): Promise<'created' | 'updated' | 'aws' | 'full' | undefined> {
    return this.db.$transaction(async (tx) => {
      const [row] = await tx.$queryRaw<{ profile: string }[]>`
        SELECT profile FROM directories WHERE id = ${id} FOR NO KEY UPDATE`;
      if (!row) return undefined;
      if (row.profile === 'aws') return 'aws';
      const urnLower = s.urn.toLowerCase();
      const exists =
        (await tx.scimDirectorySchema.count({ where: { directoryId: id, urnLower } })) > 0;
      if (!exists && (await tx.scimDirectorySchema.count({ where: { directoryId: id } })) >= max)
        return 'full';
      const data = {
        urn: s.urn,
        resourceType: s.resourceType,
        name: s.name,
        description: s.description,
        attributes: s.attributes as unknown as Prisma.InputJsonValue,
      };
      await tx.scimDirectorySchema.upsert({
        where: { directoryId_urnLower: { directoryId: id, urnLower } },
        create: { directoryId: id, urnLower, ...data },
        update: data,
      });
      await AuditRepository.write(tx, {
        actor,
        action: 'schema.put',
        directoryId: id,
        targetId: s.urn,
        detail: { resourceType: s.resourceType, attributes: s.attributes.map((a) => a.name) },
      });
      await notifyInvalidation(tx, { directoryId: id });
      return exists ? 'updated' : 'created';
    });
  }

  /** Removes a declared schema (documents keep what they hold under it); false when it is not declared. */
  async deleteSchema(id: string, urn: string, actor: Actor): Promise<boolean> {
    return this.db.$transaction(async (tx) => {
      const { count } = await tx.scimDirectorySchema.deleteMany({
        where: { directoryId: id, urnLower: urn.toLowerCase() },
      });
      if (count === 0) return false;
      await AuditRepository.write(tx, {
        actor,
        action: 'schema.delete',
        directoryId: id,
        targetId: urn,
      });
      await notifyInvalidation(tx, { directoryId: id });
      return true;
    });
  }

  find(id: string): Promise<Directory | null> {
    return this.db.directory.findUnique({ where: { id } });
  }

  async exists(id: string): Promise<boolean> {
    return (await this.db.directory.count({ where: { id } })) > 0;
  }

  /** Ordered by id; `after` is the last id of the previous page. */
  list(after: string | undefined, limit: number): Promise<Directory[]> {
    return this.db.directory.findMany({
      where: after === undefined ? {} : { id: { gt: after } },
      orderBy: { id: 'asc' },
      take: limit,
    });
  }

  /**
   * Deletes the directory and everything in it (users, groups, memberships, tokens: the foreign
   * keys cascade) in one transaction, under a lock on the directory row so no token or resource
   * is added meanwhile. Without `force`, refuses (returns the contents) while it holds users,
   * groups or live tokens. Undefined when it does not exist. The event `toEvent` builds from what
   * was removed is staged in the same transaction (one for the directory, none per resource).
   */
  async delete(
    id: string,
    force: boolean,
    actor: Actor,
    now: Date,
    toEvent: (contents: DirectoryContents) => OutboxRow,
  ): Promise<{ deleted: boolean; contents: DirectoryContents } | undefined> {
    return this.db.$transaction(async (tx) => {
      // FOR UPDATE (not NO KEY): SCIM writes' foreign-key checks (KEY SHARE) wait for the delete.
      const [row] = await tx.$queryRaw<{ id: string }[]>`
        SELECT id FROM directories WHERE id = ${id} FOR UPDATE`;
      if (!row) return undefined;
      const users = await tx.scimUser.count({ where: { directoryId: id } });
      const groups = await tx.scimGroup.count({ where: { directoryId: id } });
      const liveTokens = await tx.scimToken.count({
        where: { directoryId: id, revokedAt: null, expiresAt: { gt: now } },
      });
      const contents = { users, groups, liveTokens };
      if (!force && (users > 0 || groups > 0 || liveTokens > 0))
        return { deleted: false, contents };
      // The cascade would lock users before groups; SCIM writes lock groups, then users (a member
      // add holds its group and then needs the member): taken in that order first, they queue
      // behind one another instead of deadlocking (the delete was the victim: a 500).
      await tx.$executeRaw`
        SELECT 1 FROM scim_groups WHERE directory_id = ${id} ORDER BY id COLLATE "C" FOR UPDATE`;
      await tx.$executeRaw`
        SELECT 1 FROM scim_users WHERE directory_id = ${id} ORDER BY id COLLATE "C" FOR UPDATE`;
      await tx.directory.delete({ where: { id } });
      await AuditRepository.write(tx, {
        actor,
        action: 'directory.delete',
        directoryId: id,
        targetId: id,
        detail: { force, ...contents },
      });
      const event = toEvent(contents);
      await this.outbox.write(prismaSql(tx), event);
      // The relay publishes by created_at, whose default is now(): this transaction's start. A
      // write of the directory that began after it and committed while it waited for the locks
      // above would then be published after this event, and a consumer that dropped the
      // directory would recreate what it wrote. The time the locks were held orders it after.
      await tx.$executeRaw`
        UPDATE outbox SET created_at = clock_timestamp() WHERE id = ${event.id}::uuid`;
      await notifyInvalidation(tx, { directoryId: id });
      return { deleted: true, contents };
    });
  }
}
