// Server-side sessions in PostgreSQL. The cookie carries a random id; the table
// is keyed by its SHA-256 and holds only ciphertext, so neither a database dump
// nor a backup gives away sessions or the tokens in them.
import { Inject, Injectable, Optional } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { SessionCipher } from './session-cipher';
import type { SessionData } from './session-data';
import { mergeSession, withoutUsedUp } from './session-merge';
import { SessionRepository, type SealedFields, type SessionRow } from './session.repository';
import { SESSION_CLOCK, SESSION_TIMEOUTS } from './session.tokens';

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
  /** The row's version when loaded: the write back compares it (optimistic concurrency). */
  version: number;
}

// Writing last_seen on every request would turn every page view into a write.
const TOUCH_AFTER_MS = 60_000;

export const sessionRowId = (cookie: string): string =>
  createHash('sha256').update(cookie).digest('hex');

@Injectable()
export class SessionStore {
  constructor(
    private readonly sessions: SessionRepository,
    private readonly cipher: SessionCipher,
    @Inject(SESSION_TIMEOUTS) private readonly timeouts: SessionTimeouts,
    @Optional() @Inject(SESSION_CLOCK) private readonly now: () => number = Date.now,
  ) {}

  newCookieValue(): string {
    return randomBytes(32).toString('base64url');
  }

  /** The live session for a cookie value, or undefined (unknown, expired, undecryptable). */
  async load(cookie: string, o: { touch?: boolean } = {}): Promise<StoredSession | undefined> {
    return this.read(cookie, o.touch ?? true);
  }

  private async read(cookie: string, touch: boolean): Promise<StoredSession | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(cookie)) return undefined;
    const id = sessionRowId(cookie);
    const row = await this.sessions.find(id);
    if (!row) return undefined;
    const now = this.now();
    if (row.expiresAt.getTime() <= now || row.idleExpiresAt.getTime() <= now) {
      await this.sessions.delete(id);
      return undefined;
    }
    const json = this.cipher.open({ keyId: row.keyId, data: Buffer.from(row.data) }, id);
    if (json === undefined) return undefined;
    if (touch && now - row.lastSeenAt.getTime() > TOUCH_AFTER_MS)
      await this.touch(id, row.expiresAt);
    return {
      id,
      cookie,
      data: JSON.parse(json) as SessionData,
      createdAt: row.createdAt,
      staleKey: !this.cipher.isCurrent(row.keyId),
      version: row.version,
    };
  }

  /** Stores a brand-new session under a fresh cookie value; its absolute timeout starts now. */
  async create(cookie: string, data: SessionData): Promise<void> {
    await this.sessions.insert(this.newRow(cookie, data));
  }

  /**
   * Writes a loaded session back. Update-only, and only while the row is live: returns false (and
   * writes nothing) when the session ended meanwhile — signed out, rotated or expired. Row ids are
   * never reused (inserts only ever use a fresh random cookie), so an ended session stays ended.
   *
   * Compare-and-set on the row's version: when another request of this session wrote since
   * `stored` was loaded, this request's changes (`data` against `base`, the data as loaded) are
   * merged into the latest version, read and written under a row lock, so neither write is lost.
   */
  async update(
    stored: StoredSession,
    data: SessionData,
    base: SessionData = data,
  ): Promise<boolean> {
    const id = sessionRowId(stored.cookie);
    const now = new Date(this.now());
    const first = await this.sessions.updateLive(
      id,
      stored.version,
      now,
      this.sealedFields(id, data, stored.createdAt),
    );
    if (first !== 'conflict') return first === 'written';
    const merged = await this.sessions.updateLocked(id, now, (row) => {
      const json = this.cipher.open({ keyId: row.keyId, data: Buffer.from(row.data) }, id);
      if (json === undefined) return undefined;
      const latest = JSON.parse(json) as SessionData;
      return this.sealedFields(id, mergeSession(base, data, latest), stored.createdAt);
    });
    return merged === 'written';
  }

  /**
   * Replaces the session of `oldCookie` by one under `newCookie` with `data`, atomically and only
   * if the old row still exists: false (nothing created) when it was ended meanwhile, so neither
   * a concurrent sign-out nor a second rotation of the same session can be undone by this one.
   * `base` (the data as loaded): authorization requests used up since then are not carried over.
   */
  async rotate(
    oldCookie: string,
    newCookie: string,
    data: SessionData,
    base: SessionData = data,
  ): Promise<boolean> {
    const oldId = sessionRowId(oldCookie);
    return this.sessions.replace(oldId, (old) => {
      // Read under the lock: a state another request used up since `base` was loaded stays gone.
      const json = this.cipher.open({ keyId: old.keyId, data: Buffer.from(old.data) }, oldId);
      const latest = json === undefined ? data : (JSON.parse(json) as SessionData);
      return this.newRow(newCookie, withoutUsedUp(base, data, latest));
    });
  }

  async destroy(cookie: string): Promise<void> {
    await this.sessions.delete(sessionRowId(cookie));
  }

  /** Deletes rows past either timeout; returns how many. */
  async purgeExpired(): Promise<number> {
    return this.sessions.deleteExpired(new Date(this.now()));
  }

  private async touch(id: string, expiresAt: Date): Promise<void> {
    const now = this.now();
    const idle = Math.min(now + this.timeouts.idleSeconds * 1000, expiresAt.getTime());
    await this.sessions.touch(id, new Date(now), new Date(idle));
  }

  private newRow(cookie: string, data: SessionData): SessionRow {
    const id = sessionRowId(cookie);
    const start = new Date(this.now());
    return {
      id,
      createdAt: start,
      expiresAt: new Date(start.getTime() + this.timeouts.absoluteSeconds * 1000),
      version: 0,
      ...this.sealedFields(id, data, start),
    };
  }

  /** Ciphertext and activity fields; the idle window never reaches past the absolute timeout. */
  private sealedFields(id: string, data: SessionData, createdAt: Date): SealedFields {
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
