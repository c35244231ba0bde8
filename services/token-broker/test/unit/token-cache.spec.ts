import { BrokerError } from '../../src/broker/broker-error';
import { TokenCache, type FetchedToken } from '../../src/cache/token-cache';

const MIN = 60_000;

function setup(lifetimeMs = 60 * MIN) {
  let now = 1_000_000;
  let calls = 0;
  let fail: BrokerError | undefined;
  const pending: Array<() => void> = [];
  const cache = new TokenCache({
    refreshMarginMs: 5 * MIN,
    minRemainingMs: 30_000,
    now: () => now,
  });
  const fetch = (): Promise<FetchedToken> => {
    calls++;
    const n = calls;
    return new Promise((resolve, reject) =>
      pending.push(() =>
        fail
          ? reject(fail)
          : resolve({ accessToken: `t${n}`, expiresOn: now + lifetimeMs, keyId: 'k' }),
      ),
    );
  };
  const settle = async () => {
    while (pending.length) pending.shift()?.();
    await new Promise((r) => setImmediate(r));
  };
  return {
    cache,
    fetch,
    settle,
    calls: () => calls,
    advance: (ms: number) => (now += ms),
    failWith: (e: BrokerError | undefined) => (fail = e),
  };
}

describe('TokenCache', () => {
  it('shares one fetch among concurrent misses (single flight) and then serves hits', async () => {
    const s = setup();
    const all = Array.from({ length: 50 }, () => s.cache.get('k', s.fetch));
    await s.settle();
    const results = await Promise.all(all);
    expect(s.calls()).toBe(1);
    expect(new Set(results.map((r) => r.token.accessToken))).toEqual(new Set(['t1']));
    expect(results.every((r) => r.cache === 'miss')).toBe(true);
    expect(await s.cache.get('k', s.fetch)).toMatchObject({
      cache: 'hit',
      token: { accessToken: 't1' },
    });
  });

  it('refreshes a 1 h token at half its lifetime, and a 6 min token 5 minutes before expiry', async () => {
    const cases: Array<[lifetime: number, refreshAfter: number]> = [
      [60 * MIN, 30 * MIN],
      [6 * MIN, 1 * MIN],
    ];
    for (const [lifetime, refreshAfter] of cases) {
      const s = setup(lifetime);
      const first = s.cache.get('k', s.fetch);
      await s.settle();
      await first;
      s.advance(refreshAfter - 1000);
      await s.cache.get('k', s.fetch);
      expect(s.calls()).toBe(1);
      s.advance(1000);
      expect((await s.cache.get('k', s.fetch)).token.accessToken).toBe('t1'); // served while refreshing
      expect(s.calls()).toBe(2);
      await s.settle();
      expect((await s.cache.get('k', s.fetch)).token.accessToken).toBe('t2');
    }
  });

  it('keeps serving a valid token while refreshes fail, retries later, and fails callers once it is too close to expiry', async () => {
    const s = setup();
    const first = s.cache.get('k', s.fetch);
    await s.settle();
    await first;
    s.failWith(new BrokerError('upstream_unavailable', 'down'));
    s.advance(31 * MIN);
    expect((await s.cache.get('k', s.fetch)).token.accessToken).toBe('t1');
    await s.settle();
    // The failed refresh is not retried on every request, only after a pause.
    expect((await s.cache.get('k', s.fetch)).token.accessToken).toBe('t1');
    expect(s.calls()).toBe(2);
    s.advance(29 * MIN - 29_000); // under 30 s left: not handed out any more
    const late = expect(s.cache.get('k', s.fetch)).rejects.toMatchObject({
      code: 'upstream_unavailable',
    });
    await s.settle();
    await late;
  });

  it('does not keep refreshing tokens nobody uses', async () => {
    const s = setup();
    const first = s.cache.get('k', s.fetch);
    await s.settle();
    await first;
    s.advance(31 * MIN);
    const sweep = s.cache.refreshDue();
    await s.settle();
    await sweep;
    expect(s.calls()).toBe(1);
    s.advance(30 * MIN);
    await s.cache.refreshDue();
    expect(s.cache.snapshot()).toEqual([]);
  });

  it('wraps unexpected failures as upstream_unavailable without their message', async () => {
    const cache = new TokenCache({ refreshMarginMs: 0, minRemainingMs: 0 });
    await expect(cache.get('k', () => Promise.reject(new Error('secret detail')))).rejects.toEqual(
      new BrokerError('upstream_unavailable', 'token acquisition failed'),
    );
  });
});
