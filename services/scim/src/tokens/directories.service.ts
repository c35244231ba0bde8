import { ConflictException, Injectable, NotFoundException, Optional } from '@nestjs/common';
import { ScimDirectoryDeleted } from '@idp/contracts';
import { OutboxWriter } from '@idp/service-kit';
import type { Actor } from '../admin/audit.repository';
import type { ResourceSchema } from '../scim/attribute-defs';
import {
  extensionSchemaBody,
  MAX_SCHEMAS_PER_DIRECTORY,
  resourceSchemaOf,
  type ExtensionSchema,
  type ExtensionSchemaBody,
} from '../scim/extension-schemas';
import type { Profile } from '../scim/request-context';
import {
  DirectoriesRepository,
  type DirectoryChange,
  type DirectoryContents,
} from './directories.repository';
import {
  TokenInvalidationListener,
  type Invalidation,
  type InvalidationTarget,
} from './token-invalidation';

export const DIRECTORY_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export interface DirectoryView {
  id: string;
  profile: Profile;
  /** null = the service default (SCIM_MAX_TOKENS_PER_DIRECTORY). */
  maxTokens: number | null;
  /** Group displayName unique per directory, case-insensitively (default true). */
  uniqueGroupDisplayName: boolean;
  createdAt: Date;
}

/** What SCIM requests need to know of their directory. */
export interface DirectorySettings {
  profile: Profile;
  uniqueGroupDisplayName: boolean;
  /** Declared extension schemas (none in the `aws` profile). */
  extensions: ExtensionSchema[];
  /** The directory's User and Group schemas: the built-in ones plus its extensions. */
  userSchema: ResourceSchema;
  groupSchema: ResourceSchema;
}

export interface DirectorySettingsChange {
  profile?: Profile;
  maxTokens?: number | null;
  uniqueGroupDisplayName?: boolean;
}

const DEFAULTS: DirectorySettings = {
  profile: 'default',
  uniqueGroupDisplayName: true,
  extensions: [],
  userSchema: resourceSchemaOf('User', []),
  groupSchema: resourceSchemaOf('Group', []),
};

/**
 * A stored row as the service reads it, checked again (it was when declared): a row a later,
 * stricter check refuses is left out rather than half-applied (declaring it again shows why).
 */
function extensionOf(r: {
  urn: string;
  resourceType: string;
  name: string | null;
  description: string | null;
  attributes: unknown;
}): ExtensionSchema | undefined {
  const p = extensionSchemaBody.safeParse({
    resourceType: r.resourceType,
    attributes: r.attributes,
  });
  if (!p.success) return undefined;
  return {
    urn: r.urn,
    resourceType: p.data.resourceType,
    name: r.name,
    description: r.description,
    attributes: p.data.attributes,
  };
}

const CACHE_MS = 5000;

const view = (d: {
  id: string;
  profile: string;
  maxTokens: number | null;
  uniqueGroupDisplayName: boolean;
  createdAt: Date;
}): DirectoryView => ({
  id: d.id,
  profile: d.profile === 'aws' ? 'aws' : 'default',
  maxTokens: d.maxTokens,
  uniqueGroupDisplayName: d.uniqueGroupDisplayName,
  createdAt: d.createdAt,
});

/**
 * Directories and their settings. A directory exists only once created (admin API or CLI); every
 * admin operation on an unknown one is 404. Settings are cached briefly for SCIM requests (they
 * rarely change); a change clears the cache here and, through TokenInvalidationListener, in the
 * other replicas.
 */
@Injectable()
export class DirectoriesService implements InvalidationTarget {
  private readonly cache = new Map<string, { settings: DirectorySettings; until: number }>();
  constructor(
    private readonly repo: DirectoriesRepository,
    private readonly outbox: OutboxWriter,
    @Optional() private readonly listener?: TokenInvalidationListener,
  ) {
    listener?.register(this);
  }

  invalidate(what: Invalidation | undefined): void {
    if (what === undefined) this.cache.clear();
    else if ('directoryId' in what) this.cache.delete(what.directoryId);
  }

  /** Creates the directory unless it exists (409), with optional settings. */
  async create(
    id: string,
    settings: DirectorySettingsChange,
    actor: Actor,
  ): Promise<DirectoryView> {
    if (!(await this.repo.create(id, settings as DirectoryChange, actor)))
      throw new ConflictException('The directory exists already');
    this.cache.delete(id);
    return this.require(id);
  }

  /**
   * Test fixtures only: creates the directory if needed and sets its profile, without an audit
   * record (operators create directories explicitly).
   */
  async setProfile(id: string, profile: Profile): Promise<void> {
    await this.repo.upsert(id, { profile });
    this.cache.delete(id);
  }

  /** Sets the profile, the token cap (null = the service default) and/or group name uniqueness; 404 for an unknown directory. */
  async update(
    id: string,
    change: DirectorySettingsChange,
    actor: Actor = 'system:internal',
  ): Promise<DirectoryView> {
    const ok = await this.repo.update(id, change, actor);
    this.cache.delete(id);
    if (!ok) throw new NotFoundException('Directory not found');
    if (ok === 'extensions')
      throw new ConflictException(
        'The directory declares extension schemas, which the aws profile does not have; delete them first',
      );
    return this.require(id);
  }

  /** The directory's declared extension schemas (404 for an unknown directory). */
  async schemas(id: string): Promise<ExtensionSchema[]> {
    await this.mustExist(id);
    return (await this.repo.schemas(id)).flatMap((r) => extensionOf(r) ?? []);
  }

  /**
   * Declares or redefines an extension schema (`created` tells which). 409 in an `aws` directory
   * (IAM Identity Center has no extensions but the enterprise one) and at the cap.
   */
  async putSchema(
    id: string,
    urn: string,
    body: ExtensionSchemaBody,
    actor: Actor,
  ): Promise<{ schema: ExtensionSchema; created: boolean }> {
    const schema: ExtensionSchema = {
      urn,
      resourceType: body.resourceType,
      name: body.name ?? null,
      description: body.description ?? null,
      attributes: body.attributes,
    };
    const r = await this.repo.putSchema(id, schema, MAX_SCHEMAS_PER_DIRECTORY, actor);
    this.cache.delete(id);
    if (r === undefined) throw new NotFoundException('Directory not found');
    if (r === 'aws')
      throw new ConflictException(
        'The directory has the aws profile, which has no extension schemas (IAM Identity Center)',
      );
    if (r === 'full')
      throw new ConflictException(
        `The directory declares ${MAX_SCHEMAS_PER_DIRECTORY} extension schemas already (the maximum)`,
      );
    return { schema, created: r === 'created' };
  }

  /** Removes a declared schema; what documents hold under it stays stored, unreturned. 404 when not declared. */
  async deleteSchema(
    id: string,
    urn: string,
    actor: Actor,
  ): Promise<{ urn: string; deleted: true }> {
    await this.mustExist(id);
    const ok = await this.repo.deleteSchema(id, urn, actor);
    this.cache.delete(id);
    if (!ok) throw new NotFoundException('Schema not found');
    return { urn, deleted: true };
  }

  /**
   * Deletes the directory: refused (409, with what it holds) while it has users, groups or live
   * tokens unless `force`, which removes all of it in one transaction. A delete stages one
   * `scim.directory.deleted` event with the counts, not one event per user and group removed
   * (100,000 of them for a large directory): consumers drop the directory's data on it.
   */
  async delete(
    id: string,
    force: boolean,
    actor: Actor,
    requestId?: string,
  ): Promise<{ id: string; deleted: true; force: boolean } & DirectoryContents> {
    const r = await this.repo.delete(id, force, actor, new Date(), (c) =>
      this.outbox.row(ScimDirectoryDeleted, {
        directoryId: id,
        ...(requestId === undefined ? {} : { requestId }),
        force,
        usersRemoved: c.users,
        groupsRemoved: c.groups,
        liveTokensRemoved: c.liveTokens,
      }),
    );
    if (!r) throw new NotFoundException('Directory not found');
    // Its tokens (deleted with it) stop working in this replica at once, the others on the announcement.
    if (r.deleted) this.listener?.dispatch({ directoryId: id });
    this.cache.delete(id);
    if (!r.deleted)
      throw new ConflictException(
        `The directory holds ${r.contents.users} user(s), ${r.contents.groups} group(s) and ${r.contents.liveTokens} live token(s); delete them first or use force=true`,
      );
    return { id, deleted: true, force, ...r.contents };
  }

  async list(
    after: string | undefined,
    limit: number,
  ): Promise<{ items: DirectoryView[]; next: string | null }> {
    const rows = await this.repo.list(after, limit + 1);
    const items = rows.slice(0, limit).map(view);
    return { items, next: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
  }

  async get(id: string): Promise<DirectoryView | undefined> {
    const d = await this.repo.find(id);
    return d ? view(d) : undefined;
  }

  /** The directory, or 404. */
  async require(id: string): Promise<DirectoryView> {
    const d = await this.get(id);
    if (!d) throw new NotFoundException('Directory not found');
    return d;
  }

  /** 404 unless the directory exists (routes under it answer 404 for an unknown one). */
  async mustExist(id: string): Promise<void> {
    if (!(await this.repo.exists(id))) throw new NotFoundException('Directory not found');
  }

  /** The directory's settings (defaults for an unknown one), cached for a few seconds. */
  async settingsOf(id: string): Promise<DirectorySettings> {
    const hit = this.cache.get(id);
    if (hit && hit.until > Date.now()) return hit.settings;
    const d = await this.get(id);
    const extensions =
      d && d.profile !== 'aws'
        ? (await this.repo.schemas(id)).flatMap((r) => extensionOf(r) ?? [])
        : [];
    const settings: DirectorySettings = d
      ? {
          profile: d.profile,
          uniqueGroupDisplayName: d.uniqueGroupDisplayName,
          extensions,
          userSchema: resourceSchemaOf('User', extensions),
          groupSchema: resourceSchemaOf('Group', extensions),
        }
      : DEFAULTS;
    this.cache.set(id, { settings, until: Date.now() + CACHE_MS });
    return settings;
  }
}
