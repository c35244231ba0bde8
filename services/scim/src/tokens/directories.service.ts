import { Injectable } from '@nestjs/common';
import { PrismaService } from '../db/prisma.service';
import type { Profile } from '../scim/request-context';

export const DIRECTORY_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Directories and their compatibility profile; profiles are cached briefly (they rarely change). */
@Injectable()
export class DirectoriesService {
  private readonly cache = new Map<string, { profile: Profile; until: number }>();
  constructor(private readonly db: PrismaService) {}

  async ensure(id: string): Promise<void> {
    await this.db.directory.upsert({ where: { id }, create: { id }, update: {} });
  }

  async setProfile(id: string, profile: Profile): Promise<void> {
    await this.update(id, { profile });
  }

  /** Sets the profile and/or the token cap (null = the service default). */
  async update(
    id: string,
    change: { profile?: Profile; maxTokens?: number | null },
  ): Promise<void> {
    await this.db.directory.upsert({ where: { id }, create: { id, ...change }, update: change });
    this.cache.delete(id);
  }

  async get(
    id: string,
  ): Promise<
    { id: string; profile: Profile; maxTokens: number | null; createdAt: Date } | undefined
  > {
    const d = await this.db.directory.findUnique({ where: { id } });
    return d
      ? {
          id: d.id,
          profile: d.profile === 'aws' ? 'aws' : 'default',
          maxTokens: d.maxTokens,
          createdAt: d.createdAt,
        }
      : undefined;
  }

  async profileOf(id: string): Promise<Profile> {
    const hit = this.cache.get(id);
    if (hit && hit.until > Date.now()) return hit.profile;
    const profile = (await this.get(id))?.profile ?? 'default';
    this.cache.set(id, { profile, until: Date.now() + 5000 });
    return profile;
  }
}
