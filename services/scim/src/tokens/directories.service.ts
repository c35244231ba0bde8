import { Injectable } from '@nestjs/common';
import type { Profile } from '../scim/request-context';
import { DirectoriesRepository } from './directories.repository';

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
}

const DEFAULTS: DirectorySettings = { profile: 'default', uniqueGroupDisplayName: true };
const CACHE_MS = 5000;

/** Directories and their settings; settings are cached briefly for SCIM requests (they rarely change). */
@Injectable()
export class DirectoriesService {
  private readonly cache = new Map<string, { settings: DirectorySettings; until: number }>();
  constructor(private readonly repo: DirectoriesRepository) {}

  async ensure(id: string): Promise<void> {
    await this.repo.ensure(id);
  }

  async setProfile(id: string, profile: Profile): Promise<void> {
    await this.update(id, { profile });
  }

  /** Sets the profile, the token cap (null = the service default) and/or group name uniqueness. */
  async update(
    id: string,
    change: { profile?: Profile; maxTokens?: number | null; uniqueGroupDisplayName?: boolean },
  ): Promise<void> {
    await this.repo.upsert(id, change);
    this.cache.delete(id);
  }

  async get(id: string): Promise<DirectoryView | undefined> {
    const d = await this.repo.find(id);
    return d
      ? {
          id: d.id,
          profile: d.profile === 'aws' ? 'aws' : 'default',
          maxTokens: d.maxTokens,
          uniqueGroupDisplayName: d.uniqueGroupDisplayName,
          createdAt: d.createdAt,
        }
      : undefined;
  }

  /** The directory's settings (defaults for an unknown one), cached for a few seconds. */
  async settingsOf(id: string): Promise<DirectorySettings> {
    const hit = this.cache.get(id);
    if (hit && hit.until > Date.now()) return hit.settings;
    const d = await this.get(id);
    const settings = d
      ? { profile: d.profile, uniqueGroupDisplayName: d.uniqueGroupDisplayName }
      : DEFAULTS;
    this.cache.set(id, { settings, until: Date.now() + CACHE_MS });
    return settings;
  }
}
