import { Injectable } from '@nestjs/common';
import { PrismaService } from '../db/prisma.service';
import type { Directory } from '../generated/prisma/client';

/** What an admin can change on a directory; undefined leaves a setting as it is. */
export interface DirectoryChange {
  profile?: string;
  /** null = SCIM_MAX_TOKENS_PER_DIRECTORY. */
  maxTokens?: number | null;
  uniqueGroupDisplayName?: boolean;
}

/** The directories table (Prisma: admin and cached lookups, off the SCIM hot paths). */
@Injectable()
export class DirectoriesRepository {
  constructor(private readonly db: PrismaService) {}

  /** Creates the directory with defaults unless it exists. */
  async ensure(id: string): Promise<void> {
    await this.db.directory.upsert({ where: { id }, create: { id }, update: {} });
  }

  /** Creates the directory with `change` applied, or applies it to the existing one. */
  async upsert(id: string, change: DirectoryChange): Promise<void> {
    await this.db.directory.upsert({ where: { id }, create: { id, ...change }, update: change });
  }

  find(id: string): Promise<Directory | null> {
    return this.db.directory.findUnique({ where: { id } });
  }
}
