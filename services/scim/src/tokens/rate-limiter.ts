import { Inject, Injectable } from '@nestjs/common';
import { SCIM_CONFIG, type ScimConfig } from '../config';

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
  // A clock that stepped back refills nothing (and never drains the bucket).
  b.tokens = Math.min(burst, b.tokens + (Math.max(0, now - b.at) / 1000) * rate);
  b.at = Math.max(b.at, now);
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
  private readonly rate: number;
  private readonly burst: number;

  constructor(@Inject(SCIM_CONFIG) config: ScimConfig) {
    this.rate = config.SCIM_RATE_LIMIT_PER_SECOND;
    this.burst = config.SCIM_RATE_LIMIT_BURST || this.rate;
  }

  /** See takeToken; always undefined when rate limiting is off. */
  take(directoryId: string): number | undefined {
    if (this.rate <= 0) return undefined;
    const now = Date.now();
    let b = this.buckets.get(directoryId);
    if (!b) {
      b = { tokens: this.burst, at: now };
      this.buckets.set(directoryId, b);
    }
    return takeToken(b, now, this.rate, this.burst);
  }
}
