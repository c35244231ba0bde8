import { BrokerError, parseRetryAfter, RetryableError } from '../../src/broker/broker-error';
import { backoffDelay, withRetry, type RetryPolicy } from '../../src/broker/retry';
import { aadstsOf, redeemAssertion } from '../../src/entra/token-endpoint';

const policy: RetryPolicy = {
  upstreamRetries: 3,
  replicationRetries: 2,
  baseDelayMs: 100,
  maxDelayMs: 1000,
};

describe('backoff', () => {
  it('grows exponentially with jitter, is capped, and never undercuts Retry-After', () => {
    expect(backoffDelay(0, policy, undefined, () => 0)).toBe(50);
    expect(backoffDelay(0, policy, undefined, () => 1)).toBe(100);
    expect(backoffDelay(3, policy, undefined, () => 1)).toBe(800);
    expect(backoffDelay(10, policy, undefined, () => 1)).toBe(1000);
    expect(backoffDelay(0, policy, 5000, () => 1)).toBe(5000);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it('retries within separate budgets and then reports upstream_unavailable with the AADSTS code', async () => {
    const sleeps: number[] = [];
    let n = 0;
    const op = () => {
      n++;
      return Promise.reject(
        new RetryableError('not yet', 'not_replicated', undefined, 'AADSTS700016'),
      );
    };
    await expect(withRetry(op, policy, async (ms) => void sleeps.push(ms))).rejects.toEqual(
      new BrokerError('upstream_unavailable', 'not yet', 'AADSTS700016'),
    );
    expect(n).toBe(3);
    expect(sleeps).toHaveLength(2);
  });

  it('does not retry other errors', async () => {
    let n = 0;
    const op = () => {
      n++;
      return Promise.reject(new BrokerError('upstream_rejected', 'no'));
    };
    await expect(withRetry(op, policy, async () => undefined)).rejects.toMatchObject({
      code: 'upstream_rejected',
    });
    expect(n).toBe(1);
  });
});

describe('token endpoint errors', () => {
  const answer =
    (status: number, body: unknown, headers: Record<string, string> = {}) =>
    () =>
      Promise.resolve(
        new Response(JSON.stringify(body), {
          status,
          headers: { 'content-type': 'application/json', ...headers },
        }),
      );
  const redeem = (f: ReturnType<typeof answer>) =>
    redeemAssertion(
      {
        endpoint: 'https://login.example/t/oauth2/v2.0/token',
        clientId: 'c',
        scope: 's/.default',
        assertion: 'a.b.c',
      },
      f,
    );

  it('reads AADSTS codes from error_codes or the description', () => {
    expect(aadstsOf({ error_codes: [700016] })).toBe('AADSTS700016');
    expect(aadstsOf({ error_description: 'AADSTS7000215: Invalid client secret provided.' })).toBe(
      'AADSTS7000215',
    );
    expect(aadstsOf({})).toBeUndefined();
  });

  it("classifies throttling, outages, replication delay and refusals, without echoing Entra's message", async () => {
    await expect(redeem(answer(429, {}, { 'retry-after': '2' }))).rejects.toMatchObject({
      kind: 'throttled',
      retryAfterMs: 2000,
    });
    await expect(redeem(answer(503, {}))).rejects.toMatchObject({ kind: 'unavailable' });
    await expect(
      redeem(answer(400, { error: 'unauthorized_client', error_codes: [700016] })),
    ).rejects.toMatchObject({ kind: 'not_replicated', aadsts: 'AADSTS700016' });
    const refused = redeem(
      answer(401, {
        error: 'invalid_client',
        error_description: 'AADSTS700027: assertion a.b.c is bad',
        error_codes: [700027],
      }),
    );
    await expect(refused).rejects.toEqual(
      new BrokerError(
        'upstream_rejected',
        'Entra refused the token request: invalid_client',
        'AADSTS700027',
      ),
    );
    await expect(redeem(() => Promise.reject(new TypeError('fetch failed')))).rejects.toMatchObject(
      { kind: 'unavailable' },
    );
  });
});
