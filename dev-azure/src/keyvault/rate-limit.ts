// Vault-wide token bucket: capacity and refill rate are both `perSecond`,
// so short bursts up to one second's worth pass and sustained excess gets 429.

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(private readonly perSecond: number) {
    if (!(perSecond > 0)) throw new Error('rateLimitPerSecond must be a positive number');
    this.tokens = perSecond;
    this.last = Date.now();
  }

  /** Takes one token; returns 0 when allowed, else the whole seconds to wait (>= 1) for Retry-After. */
  take(): number {
    const now = Date.now();
    this.tokens = Math.min(
      this.perSecond,
      this.tokens + ((now - this.last) / 1000) * this.perSecond,
    );
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - this.tokens) / this.perSecond));
  }
}
