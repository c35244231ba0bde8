// The session table: the only code that reads or writes it. Rows hold ciphertext only (see
// SessionStore); what goes in and comes out is sealed and opened there.
import { Injectable } from '@nestjs/common';
import { PrismaService } from '../db/prisma.service';
import type { Session } from '../generated/prisma/client';

/** A session row as stored (ids are SHA-256 of cookie values; data is ciphertext). */
export type SessionRow = Session;

/** What a write back replaces: the ciphertext and the activity fields. */
/** What a rotation leaves behind for a sign-out still carrying the old cookie. */
interface RotationLink {
  csrfDigest: string;
  expiresAt: Date;
}

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

  /**
   * Compare-and-set: updates the row only while it is live (neither timeout passed at `now`) and
   * still at `version`, bumping the version. `ended` when the row is gone or expired, `conflict`
   * when another write got in first (the caller merges and tries again).
   */
  async updateLive(
    id: string,
    version: number,
    now: Date,
    fields: SealedFields,
  ): Promise<'written' | 'ended' | 'conflict'> {
    const r = await this.prisma.session.updateMany({
      where: { id, version, expiresAt: { gt: now }, idleExpiresAt: { gt: now } },
      data: { ...fields, version: { increment: 1 } },
    });
    if (r.count === 1) return 'written';
    const live = await this.prisma.session.count({
      where: { id, expiresAt: { gt: now }, idleExpiresAt: { gt: now } },
    });
    return live === 1 ? 'conflict' : 'ended';
  }

  /**
   * The retry after a lost compare-and-set: locks the live row (`SELECT … FOR UPDATE`), hands it
   * to `change` (which merges into it) and writes the result with the version bumped, in one
   * transaction, so no other write can come between this read and this write. `ended` when the
   * row is gone or expired, or `change` returns undefined (the row cannot be opened).
   */
  updateLocked(
    id: string,
    now: Date,
    change: (row: SessionRow) => SealedFields | undefined,
  ): Promise<'written' | 'ended'> {
    return this.prisma.$transaction(async (tx) => {
      const locked = await tx.$queryRaw<{ id: string }[]>`
        SELECT id FROM session
        WHERE id = ${id} AND expires_at > ${now} AND idle_expires_at > ${now}
        FOR UPDATE`;
      const row = locked.length === 1 ? await tx.session.findUnique({ where: { id } }) : null;
      const fields = row ? change(row) : undefined;
      if (!fields) return 'ended';
      await tx.session.update({ where: { id }, data: { ...fields, version: { increment: 1 } } });
      return 'written';
    });
  }

  /** Records activity: last seen and the new idle deadline. */
  async touch(id: string, lastSeenAt: Date, idleExpiresAt: Date): Promise<void> {
    await this.prisma.session.updateMany({ where: { id }, data: { lastSeenAt, idleExpiresAt } });
  }

  /**
   * Deletes `oldId` and inserts the row `build` makes of it (read under a row lock) in one
   * transaction, only if the old row still existed: false (nothing inserted) when it was gone.
   */
  replace(
    oldId: string,
    build: (old: SessionRow) => { row: SessionRow; link?: RotationLink },
  ): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const locked = await tx.$queryRaw<{ id: string }[]>`
        SELECT id FROM session WHERE id = ${oldId} FOR UPDATE`;
      const old =
        locked.length === 1 ? await tx.session.findUnique({ where: { id: oldId } }) : null;
      if (!old) return false;
      const { row, link } = build(old);
      await tx.session.delete({ where: { id: oldId } });
      await tx.session.create({ data: row });
      if (link) await tx.sessionRotation.create({ data: { oldId, newId: row.id, ...link } });
      return true;
    });
  }

  async delete(id: string): Promise<void> {
    await this.prisma.session.deleteMany({ where: { id } });
  }

  /** The live rotation link from `oldId`, if any: the id it was rotated to and the CSRF digest. */
  rotationFrom(oldId: string, now: Date): Promise<{ newId: string; csrfDigest: string } | null> {
    return this.prisma.sessionRotation.findFirst({
      where: { oldId, expiresAt: { gt: now } },
      select: { newId: true, csrfDigest: true },
    });
  }

  /** The live rotation link into `newId`, if any: the id it was rotated from and the CSRF digest. */
  rotationInto(newId: string, now: Date): Promise<{ oldId: string; csrfDigest: string } | null> {
    return this.prisma.sessionRotation.findFirst({
      where: { newId, expiresAt: { gt: now } },
      select: { oldId: true, csrfDigest: true },
    });
  }

  /** Deletes rows past either timeout at `now`; returns how many. */
  async deleteExpired(now: Date): Promise<number> {
    const r = await this.prisma.session.deleteMany({
      where: { OR: [{ expiresAt: { lte: now } }, { idleExpiresAt: { lte: now } }] },
    });
    await this.prisma.sessionRotation.deleteMany({ where: { expiresAt: { lte: now } } });
    return r.count;
  }
}
