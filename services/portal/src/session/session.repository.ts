// The session table: the only code that reads or writes it. Rows hold ciphertext only (see
// SessionStore); what goes in and comes out is sealed and opened there.
import { Injectable } from '@nestjs/common';
import { PrismaService } from '../db/prisma.service';
import type { Session } from '../generated/prisma/client';

/** A session row as stored (ids are SHA-256 of cookie values; data is ciphertext). */
export type SessionRow = Session;

/** What a write back replaces: the ciphertext and the activity fields. */
export type SealedFields = Pick<Session, 'keyId' | 'data' | 'lastSeenAt' | 'idleExpiresAt'>;

@Injectable()
export class SessionRepository {
  constructor(private readonly prisma: PrismaService) {}

  find(id: string): Promise<SessionRow | null> {
    return this.prisma.session.findUnique({ where: { id } });
  }

  async insert(row: SessionRow): Promise<void> {
    await this.prisma.session.create({ data: row });
  }

  /** Updates the row only while it is live (neither timeout passed at `now`); false otherwise. */
  async updateLive(id: string, now: Date, fields: SealedFields): Promise<boolean> {
    const r = await this.prisma.session.updateMany({
      where: { id, expiresAt: { gt: now }, idleExpiresAt: { gt: now } },
      data: fields,
    });
    return r.count === 1;
  }

  /** Records activity: last seen and the new idle deadline. */
  async touch(id: string, lastSeenAt: Date, idleExpiresAt: Date): Promise<void> {
    await this.prisma.session.updateMany({ where: { id }, data: { lastSeenAt, idleExpiresAt } });
  }

  /**
   * Deletes `oldId` and inserts `row` in one transaction, only if the old row still existed:
   * false (nothing inserted) when it was gone.
   */
  replace(oldId: string, row: SessionRow): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const ended = await tx.session.deleteMany({ where: { id: oldId } });
      if (ended.count === 0) return false;
      await tx.session.create({ data: row });
      return true;
    });
  }

  async delete(id: string): Promise<void> {
    await this.prisma.session.deleteMany({ where: { id } });
  }

  /** Deletes rows past either timeout at `now`; returns how many. */
  async deleteExpired(now: Date): Promise<number> {
    const r = await this.prisma.session.deleteMany({
      where: { OR: [{ expiresAt: { lte: now } }, { idleExpiresAt: { lte: now } }] },
    });
    return r.count;
  }
}
