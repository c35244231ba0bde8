import { takeToken, type Bucket } from '../../src/tokens/rate-limiter';

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

  it('ignores a clock that steps back', () => {
    const b: Bucket = { tokens: 0, at: 10_000 };
    expect(takeToken(b, 5_000, 1, 3)).toBe(1);
    expect(b.at).toBe(10_000);
    expect(takeToken(b, 11_000, 1, 3)).toBeUndefined();
  });
});
