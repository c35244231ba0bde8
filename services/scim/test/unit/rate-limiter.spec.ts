import type { ScimConfig } from '../../src/config';
import { RateLimiter, takeToken, type Bucket } from '../../src/tokens/rate-limiter';

describe('takeToken (per-directory token bucket)', () => {
  it('lets a burst through, then answers the seconds until the next request', () => {
    const b: Bucket = { tokens: 3, at: 0 };
    expect([takeToken(b, 0, 1, 3), takeToken(b, 0, 1, 3), takeToken(b, 0, 1, 3)]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(takeToken(b, 0, 1, 3)).toBe(1);
    expect(takeToken(b, 500, 1, 3)).toBe(1); // half a request refilled: still a second (rounded up)
    expect(takeToken(b, 1000, 1, 3)).toBeUndefined();
  });

  it('refills at the rate up to the burst, never beyond', () => {
    const b: Bucket = { tokens: 0, at: 0 };
    expect(takeToken(b, 60_000, 10, 5)).toBeUndefined();
    expect(b.tokens).toBe(4);
  });

  it('answers at least 1 second, and more when the rate is below one a second', () => {
    expect(takeToken({ tokens: 0, at: 0 }, 0, 100, 1)).toBe(1);
    // A fractional bucket never results from an integer config, but the wait is still whole seconds.
    expect(takeToken({ tokens: 0, at: 0 }, 0, 0.25, 1)).toBe(4);
  });

  it('refills nothing for a clock that steps back, and refills from the new time on', () => {
    const b: Bucket = { tokens: 0, at: 3_600_000 };
    expect(takeToken(b, 5_000, 1, 3)).toBe(1);
    // A second later (not an hour later, when the clock is back where it was) a request goes through.
    expect(takeToken(b, 6_000, 1, 3)).toBeUndefined();
  });
});

describe('RateLimiter', () => {
  const limiter = () =>
    new RateLimiter({ SCIM_RATE_LIMIT_PER_SECOND: 2, SCIM_RATE_LIMIT_BURST: 4 } as ScimConfig);

  it('keeps buckets only for directories that sent requests lately', () => {
    const l = limiter();
    for (let i = 0; i < 5000; i++) l.take(`dir-${i}`, 1000 + i);
    expect(l.size).toBe(5000);
    // A minute on, those buckets are full again, the same as none: dropped.
    expect(l.take('active', 70_000)).toBeUndefined();
    expect(l.size).toBe(1);
  });

  it('keeps a bucket that has not refilled (its directory stays throttled)', () => {
    const l = limiter();
    l.take('idle', 60_000); // sweeps (nothing to drop)
    for (let i = 0; i < 4; i++) expect(l.take('busy', 119_900)).toBeUndefined();
    l.take('other', 120_000); // sweeps: 'idle' is full again, 'busy' holds 0.2 of 4
    expect(l.size).toBe(2);
    expect(l.take('busy', 120_000)).toBe(1);
  });
});
