// Server-side sessions in PostgreSQL. The cookie carries a random id; the table
// is keyed by its SHA-256 and holds only ciphertext, so neither a database dump
// nor a backup gives away sessions or the tokens in them.
import { createHash, randomBytes } from 'node:crypto';
import type { PrismaClient } from '../generated/prisma/client';
import type { SessionCipher } from './session-cipher';
import type { SessionData } from './session-data';

export interface SessionTimeouts {
  idleSeconds: number;
  absoluteSeconds: number;
}

export interface StoredSession {
  /** Row id: SHA-256 (hex) of the cookie value. */
  id: string;
  cookie: string;
  data: SessionData;
  createdAt: Date;
  /** Sealed with an older key: re-seal on the next save. */
  staleKey: boolean;
}

// Writing last_seen on every request would turn every page view into a write.
const TOUCH_AFTER_MS = 60_000;

export const sessionRowId = (cookie: string): string =>
  createHash('sha256').update(cookie).digest('hex');

export class SessionStore {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly cipher: SessionCipher,
    private readonly timeouts: SessionTimeouts,
    private readonly now: () => number = Date.now,
  ) {}

  newCookieValue(): string {
    return randomBytes(32).toString('base64url');
  }

  /** The live session for a cookie value, or undefined (unknown, expired, undecryptable). */
  async load(cookie: string): Promise<StoredSession | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(cookie)) return undefined;
    const id = sessionRowId(cookie);
    const row = await this.prisma.session.findUnique({ where: { id } });
    if (!row) return undefined;
    const now = this.now();
    if (row.expiresAt.getTime() <= now || row.idleExpiresAt.getTime() <= now) {
      await this.prisma.session.deleteMany({ where: { id } });
      return undefined;
    }
    const json = this.cipher.open({ keyId: row.keyId, data: Buffer.from(row.data) }, id);
    if (json === undefined) return undefined;
    if (now - row.lastSeenAt.getTime() > TOUCH_AFTER_MS) await this.touch(id, row.expiresAt);
    return {
      id,
      cookie,
      data: JSON.parse(json) as SessionData,
      createdAt: row.createdAt,
      staleKey: !this.cipher.isCurrent(row.keyId),
    };
  }

  /** Stores a brand-new session under a fresh cookie value; its absolute timeout starts now. */
  async create(cookie: string, data: SessionData): Promise<void> {
    await this.prisma.session.create({ data: this.newRow(cookie, data) });
  }

  /**
   * Writes a loaded session back. Update-only, and only while the row is live: returns false (and
   * writes nothing) when the session ended meanwhile — signed out, rotated or expired. Row ids are
   * never reused (inserts only ever use a fresh random cookie), so an ended session stays ended.
   */
  async update(cookie: string, data: SessionData, createdAt: Date): Promise<boolean> {
    const id = sessionRowId(cookie);
    const now = new Date(this.now());
    const r = await this.prisma.session.updateMany({
      where: { id, expiresAt: { gt: now }, idleExpiresAt: { gt: now } },
      data: this.sealedFields(id, data, createdAt),
    });
    return r.count === 1;
  }

  /**
   * Replaces the session of `oldCookie` by one under `newCookie` with `data`, atomically and only
   * if the old row still exists: false (nothing created) when it was ended meanwhile, so neither
   * a concurrent sign-out nor a second rotation of the same session can be undone by this one.
   */
  async rotate(oldCookie: string, newCookie: string, data: SessionData): Promise<boolean> {
    const row = this.newRow(newCookie, data);
    return this.prisma.$transaction(async (tx) => {
      const ended = await tx.session.deleteMany({ where: { id: sessionRowId(oldCookie) } });
      if (ended.count === 0) return false;
      await tx.session.create({ data: row });
      return true;
    });
  }

  async destroy(cookie: string): Promise<void> {
    await this.prisma.session.deleteMany({ where: { id: sessionRowId(cookie) } });
  }

  /** Deletes rows past either timeout; returns how many. */
  async purgeExpired(): Promise<number> {
    const now = new Date(this.now());
    const r = await this.prisma.session.deleteMany({
      where: { OR: [{ expiresAt: { lte: now } }, { idleExpiresAt: { lte: now } }] },
    });
    return r.count;
  }

  private async touch(id: string, expiresAt: Date): Promise<void> {
    const now = this.now();
    const idle = Math.min(now + this.timeouts.idleSeconds * 1000, expiresAt.getTime());
    await this.prisma.session.updateMany({
      where: { id },
      data: { lastSeenAt: new Date(now), idleExpiresAt: new Date(idle) },
    });
  }

  private newRow(cookie: string, data: SessionData) {
    const id = sessionRowId(cookie);
    const start = new Date(this.now());
    return {
      id,
      createdAt: start,
      expiresAt: new Date(start.getTime() + this.timeouts.absoluteSeconds * 1000),
      ...this.sealedFields(id, data, start),
    };
  }

  /** Ciphertext and activity fields; the idle window never reaches past the absolute timeout. */
  private sealedFields(id: string, data: SessionData, createdAt: Date) {
    const now = this.now();
    const sealed = this.cipher.seal(JSON.stringify(data), id);
    return {
      keyId: sealed.keyId,
      data: new Uint8Array(sealed.data),
      lastSeenAt: new Date(now),
      idleExpiresAt: new Date(
        Math.min(
          now + this.timeouts.idleSeconds * 1000,
          createdAt.getTime() + this.timeouts.absoluteSeconds * 1000,
        ),
      ),
    };
  }
}
