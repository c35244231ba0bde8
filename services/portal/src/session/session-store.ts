// Server-side sessions in PostgreSQL. The cookie carries a random id; the table
// is keyed by its SHA-256 and holds only ciphertext, so neither a database dump
// nor a backup gives away sessions or the tokens in them.
import { Inject, Injectable, Optional } from '@nestjs/common';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
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

// How long a rotation's link from the old id lasts: the old cookie is only ever sent by requests
// that left the browser before the sign-in's response set the new one.
const ROTATION_LINK_MS = 60_000;
// Sign-ins in a row within that minute (each rotates again); bounded so a lookup stays cheap.
const MAX_ROTATION_HOPS = 8;

const csrfDigest = (csrf: string): string => createHash('sha256').update(csrf).digest('hex');
// The digest of an anonymous session's rotation link: matches no token (a digest is 64 hex
// characters), so it ends nothing; it only tells a sign-out with the old cookie what happened.
const NO_TOKEN = '';

/** What a sign-in did to a cookie's session within the last minute, if anything. */
export type Rotation = 'signedIn' | 'anonymous';

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
      const row = this.newRow(newCookie, withoutUsedUp(base, data, latest));
      const expiresAt = new Date(this.now() + ROTATION_LINK_MS);
      // Only a signed-in session's rotation leaves a link a token can follow: whoever planted an
      // anonymous cookie (session fixation) knows its CSRF token, and must not be able to end the
      // victim's session. An anonymous one's link follows nowhere: a sign-out still carrying its
      // cookie is told the user is signed in now, not sent to the IdP's logout as if signed out.
      const digest = latest.user ? csrfDigest(latest.csrf) : NO_TOKEN;
      return { row, link: { csrfDigest: digest, expiresAt } };
    });
  }

  /**
   * Ends the session of `cookie` and whatever a sign-in rotated it into within the last minute: a
   * sign-out sent with the old cookie while another tab's sign-in was answered ends the user's
   * session, not only the id that was current when the sign-out left the browser.
   */
  async destroy(cookie: string): Promise<void> {
    let id = sessionRowId(cookie);
    await this.sessions.delete(id);
    for (let hop = 0; hop < MAX_ROTATION_HOPS; hop++) {
      const link = await this.sessions.rotationFrom(id, new Date(this.now()));
      if (!link || link.csrfDigest === NO_TOKEN) return;
      id = link.newId;
      await this.sessions.delete(id);
    }
  }

  /**
   * Whether `cookie`'s session was rotated by a sign-in within the last minute and `csrf` was its
   * CSRF token: a sign-out with both may end the session it was rotated into (destroy).
   */
  async rotatedWithCsrf(cookie: string, csrf: string): Promise<boolean> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(cookie)) return false;
    const link = await this.sessions.rotationFrom(sessionRowId(cookie), new Date(this.now()));
    if (!link || link.csrfDigest === NO_TOKEN) return false;
    const a = Buffer.from(link.csrfDigest);
    const b = Buffer.from(csrfDigest(csrf));
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** Whether a sign-in rotated `cookie`'s session within the last minute, and of which session. */
  async rotationOf(cookie: string): Promise<Rotation | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(cookie)) return undefined;
    const link = await this.sessions.rotationFrom(sessionRowId(cookie), new Date(this.now()));
    if (!link) return undefined;
    return link.csrfDigest === NO_TOKEN ? 'anonymous' : 'signedIn';
  }

  /**
   * Whether `cookie`'s session came out of a sign-in's rotation within the last minute (up to 8
   * in a row) of a session whose CSRF token was `csrf`: a sign-out form loaded before another
   * tab's sign-in carries that token with the new cookie.
   */
  async rotatedIntoWithCsrf(cookie: string, csrf: string): Promise<boolean> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(cookie)) return false;
    const wanted = Buffer.from(csrfDigest(csrf));
    let id = sessionRowId(cookie);
    for (let hop = 0; hop < MAX_ROTATION_HOPS; hop++) {
      const link = await this.sessions.rotationInto(id, new Date(this.now()));
      if (!link || link.csrfDigest === NO_TOKEN) return false;
      const digest = Buffer.from(link.csrfDigest);
      if (digest.length === wanted.length && timingSafeEqual(digest, wanted)) return true;
      id = link.oldId;
    }
    return false;
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
