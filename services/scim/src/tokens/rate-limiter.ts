import { Inject, Injectable } from '@nestjs/common';
import { SCIM_CONFIG, type ScimConfig } from '../config';

const SWEEP_MS = 60_000;

/** A directory's token bucket: requests it may still make, as of `at` (ms). */
export interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Takes one request from `b` at time `now` (ms), refilled at `rate` per second up to `burst`:
 * undefined when the request may go ahead, else the whole seconds until the bucket holds one
 * again (a Retry-After value, at least 1).
 */
export function takeToken(b: Bucket, now: number, rate: number, burst: number): number | undefined {
  // A clock that stepped back refills nothing for the step, and counts on from the new time: kept
  // at the old time, a drained bucket would stay empty (429) until the clock caught up.
  b.tokens = Math.min(burst, b.tokens + (Math.max(0, now - b.at) / 1000) * rate);
  b.at = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return undefined;
  }
  return Math.max(1, Math.ceil((1 - b.tokens) / rate));
}

/**
 * Per-directory request rate limit (SCIM_RATE_LIMIT_PER_SECOND, SCIM_RATE_LIMIT_BURST), a token
 * bucket per directory in this replica: a runaway or misconfigured client of one directory cannot
 * take the database from the others. IAM Identity Center throttles its SCIM callers the same way
 * (429 ThrottlingException), and Entra's provisioning service pauses for the Retry-After of a 429
 * and then retries the failed request. Off when the rate is 0.
 */
@Injectable()
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private swept = 0;
  private readonly rate: number;
  private readonly burst: number;

  constructor(@Inject(SCIM_CONFIG) config: ScimConfig) {
    this.rate = config.SCIM_RATE_LIMIT_PER_SECOND;
    this.burst = config.SCIM_RATE_LIMIT_BURST || this.rate;
  }

  /** Buckets held now (directories that sent requests within about a minute). */
  get size(): number {
    return this.buckets.size;
  }

  /**
   * See takeToken; always undefined when rate limiting is off. `now` is a monotonic clock (ms):
   * wall-clock steps neither refill nor freeze a bucket.
   */
  take(directoryId: string, now = performance.now()): number | undefined {
    if (this.rate <= 0) return undefined;
    this.sweep(now);
    let b = this.buckets.get(directoryId);
    if (!b) {
      b = { tokens: this.burst, at: now };
      this.buckets.set(directoryId, b);
    }
    return takeToken(b, now, this.rate, this.burst);
  }

  /**
   * Drops, once a minute, the buckets that have refilled to the burst: a new bucket is the same,
   * so memory follows the directories sending requests now, not every directory (deleted ones
   * included) that ever did.
   */
  private sweep(now: number): void {
    if (now - this.swept < SWEEP_MS) return;
    this.swept = now;
    for (const [id, b] of this.buckets)
      if (b.tokens + (Math.max(0, now - b.at) / 1000) * this.rate >= this.burst)
        this.buckets.delete(id);
  }
}
