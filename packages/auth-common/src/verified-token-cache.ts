import * as crypto from 'node:crypto';

// One-shot crypto.hash (node >= 20.12) avoids a Hash object per request.
const oneShot = (crypto as { hash?: (alg: string, data: string, enc: 'base64') => string }).hash;
const sha256 = (token: string): string =>
  oneShot
    ? oneShot('sha256', token, 'base64')
    : crypto.createHash('sha256').update(token).digest('base64');

interface Entry<V> {
  value: V;
  /** Milliseconds; never later than the token's exp. */
  expiresAt: number;
  /** The token's exp in milliseconds, re-checked on every hit. */
  tokenExpiresAt: number;
}

export interface CacheStats {
  size: number;
  hits: number;
  misses: number;
  flushes: number;
}

/**
 * LRU of already-verified tokens, keyed by SHA-256 of the whole token (never
 * a subset of claims, so a token differing in any byte is a miss).
 */
export class VerifiedTokenCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private hits = 0;
  private misses = 0;
  private flushes = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
  ) {}

  static keyOf(token: string): string {
    return sha256(token);
  }

  get(key: string, now: number): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) {
      this.misses++;
      return undefined;
    }
    if (now >= entry.expiresAt || now >= entry.tokenExpiresAt) {
      this.entries.delete(key);
      this.misses++;
      return undefined;
    }
    // Move to the most-recently-used end.
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.hits++;
    return entry.value;
  }

  set(key: string, value: V, tokenExpiresAt: number, now: number): void {
    const expiresAt = Math.min(tokenExpiresAt, now + this.ttlMs);
    if (expiresAt <= now) return;
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt, tokenExpiresAt });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  flush(): void {
    this.entries.clear();
    this.flushes++;
  }

  stats(): CacheStats {
    return { size: this.entries.size, hits: this.hits, misses: this.misses, flushes: this.flushes };
  }
}
