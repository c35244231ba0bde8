// Smart lockout, as Entra's: after `threshold` wrong passwords for one account (sign-in name, so
// an unknown name behaves like a known one) it is locked for `durationSeconds`, doubling with
// each further lockout; the same wrong password again does not count (Entra remembers the last
// three bad passwords), a correct sign-in or a password reset starts it over, and no other
// account is affected. In memory: a restart unlocks everyone.
import { createHmac, randomBytes } from 'node:crypto';
import { nowSeconds } from '../../util/encoding';

export interface LockoutPolicy {
  threshold: number;
  durationSeconds: number;
}

interface Counter {
  failures: number;
  /** Keyed digests of the last wrong passwords (never the passwords). */
  recent: string[];
  lockedUntil: number;
  lockouts: number;
}

const RECENT = 3;
const MAX_ACCOUNTS = 100_000;

export class SmartLockout {
  private readonly counters = new Map<string, Counter>();
  /** Per-process key: the digests are useless outside this process. */
  private readonly key = randomBytes(32);

  private id(tenantId: string, name: string): string {
    return `${tenantId}|${name.trim().toLowerCase()}`;
  }

  /** Seconds the account stays locked (0: not locked). */
  lockedFor(tenantId: string, name: string): number {
    const c = this.counters.get(this.id(tenantId, name));
    return c ? Math.max(0, c.lockedUntil - nowSeconds()) : 0;
  }

  /** A wrong password: counts it (unless it is one of the last few) and locks at the threshold. */
  failed(tenantId: string, name: string, password: string, policy: LockoutPolicy): void {
    const id = this.id(tenantId, name);
    let c = this.counters.get(id);
    if (!c) {
      if (this.counters.size >= MAX_ACCOUNTS) this.prune();
      c = { failures: 0, recent: [], lockedUntil: 0, lockouts: 0 };
      this.counters.set(id, c);
    }
    const digest = createHmac('sha256', this.key).update(`${id}|${password}`).digest('base64url');
    if (c.recent.includes(digest)) return;
    c.recent = [digest, ...c.recent].slice(0, RECENT);
    c.failures++;
    if (c.failures >= policy.threshold) {
      c.lockedUntil = nowSeconds() + policy.durationSeconds * 2 ** Math.min(c.lockouts, 10);
      c.lockouts++;
      c.failures = 0;
      c.recent = [];
    }
  }

  /** A correct sign-in or a password reset. */
  clear(tenantId: string, name: string): void {
    this.counters.delete(this.id(tenantId, name));
  }

  private prune(): void {
    const now = nowSeconds();
    for (const [k, c] of this.counters) if (c.lockedUntil < now) this.counters.delete(k);
  }
}
