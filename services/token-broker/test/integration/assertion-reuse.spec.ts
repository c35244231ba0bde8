// Key Vault signs are a quota: a client assertion is reused across retries and concurrent misses
// while it is valid and unspent, and dropped once it bought a token, was refused or nears expiry.
// Signs are counted by the Key Vault stand-in; tokens are redeemed at the identity stand-in,
// which refuses a replayed jti.
import { request, tokensAcquireSubject, TokensAcquire, type ReplyOf } from '@idp/contracts';
import type { NatsConnection } from '@nats-io/transport-node';
import { ids, POLICY_SCOPE, POLICY_SCOPE_BY_ID } from '../support/seed';
import {
  entraError,
  entraUnreachable,
  startInProcessBroker,
  startStack,
  type InProcessBroker,
  type Stack,
} from '../support/stack';
import { validateAppToken } from '../support/validate';

type Reply = ReplyOf<typeof TokensAcquire>;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const RETRIES = 4;

describe('client assertion reuse', () => {
  let stack: Stack;
  let broker: InProcessBroker;
  let reader: NatsConnection;

  const acquire = (scope: string): Promise<Reply> =>
    request(
      reader,
      TokensAcquire,
      { registration: 'policy-daemon', scope },
      { subject: tokensAcquireSubject('policy-reader'), timeout: 20000 },
    );
  const burst = (n: number): Promise<Reply[]> =>
    Promise.all(
      Array.from({ length: n }, (_, i) => acquire(i % 2 ? POLICY_SCOPE : POLICY_SCOPE_BY_ID)),
    );
  const tokenOf = (r: Reply): string => {
    if (!r.ok) throw new Error(`expected a token, got ${r.error.code}: ${r.error.message}`);
    return r.accessToken;
  };
  const signs = (): number => stack.dev.keyVault?.stats().signCount ?? NaN;
  const valid = async (r: Reply) =>
    expect(
      (await validateAppToken(stack.dev.identityUrl, ids.contoso, ids.policyApi, tokenOf(r))).roles,
    ).toContain('Policies.Read.All');

  beforeAll(async () => {
    stack = await startStack();
    broker = await startInProcessBroker(stack, { retries: RETRIES });
    reader = await stack.connectAs('policy-reader');
  }, 90000);

  afterAll(async () => {
    await broker?.stop();
    await stack?.stop();
  });

  beforeEach(() => {
    broker.advance(2 * HOUR); // nothing cached, no assertion usable
    broker.tap.clearFaults();
  });

  it('signs one assertion for an Entra outage: every retry of every concurrent miss presents it, until it nears expiry', async () => {
    const before = { signs: signs(), calls: broker.tap.calls };
    broker.tap.down = entraUnreachable;
    // Two scopes of one registration (two cache entries, the same assertion), ten callers.
    for (const r of await burst(10))
      expect(r).toMatchObject({ ok: false, error: { code: 'upstream_unavailable' } });
    expect(broker.tap.calls - before.calls).toBeGreaterThanOrEqual(2 * (1 + RETRIES)); // each cache entry: first try + retries
    expect(signs() - before.signs).toBe(1);

    // Still down a few minutes later: the same assertion again.
    broker.advance(5 * MINUTE);
    const calls = broker.tap.calls;
    for (const r of await burst(4)) expect(r.ok).toBe(false);
    expect(broker.tap.calls - calls).toBeGreaterThanOrEqual(2 * (1 + RETRIES));
    expect(signs() - before.signs).toBe(1);

    // Signed for 10 minutes, presented for 8: now a new one.
    broker.advance(4 * MINUTE);
    for (const r of await burst(4)) expect(r.ok).toBe(false);
    expect(signs() - before.signs).toBe(2);

    // Entra is back: the held assertion (never seen by Entra) buys the token, no new sign ...
    broker.tap.down = undefined;
    await valid(await acquire(POLICY_SCOPE));
    expect(signs() - before.signs).toBe(2);
    // ... and is spent: the other scope gets a new one (the identity stand-in would refuse the jti).
    const recovered = broker.tap.calls;
    await valid(await acquire(POLICY_SCOPE_BY_ID));
    expect(signs() - before.signs).toBe(3);
    expect(broker.tap.calls - recovered).toBe(1);
  });

  it('never presents a refused assertion again', async () => {
    broker.tap.down = entraUnreachable;
    const before = signs();
    for (const r of await burst(2)) expect(r.ok).toBe(false);
    expect(signs() - before).toBe(1);

    // The held assertion (sent many times) is refused: retried once with a new one, also refused.
    broker.tap.down = undefined;
    broker.tap.failNext(2, () => entraError(401, 700027));
    const calls = broker.tap.calls;
    expect(await acquire(POLICY_SCOPE)).toMatchObject({
      ok: false,
      error: { code: 'upstream_rejected', aadsts: 'AADSTS700027' },
    });
    expect(broker.tap.calls - calls).toBe(2);
    expect(signs() - before).toBe(2);

    // Neither comes back: the next request signs a third.
    await valid(await acquire(POLICY_SCOPE));
    expect(signs() - before).toBe(3);
  });

  it('answers a replay refusal of an assertion two misses sent at once with a fresh assertion', async () => {
    const before = { signs: signs(), calls: broker.tap.calls };
    // Both token requests leave with the same assertion; the identity stand-in accepts one and refuses the other's jti.
    const release = broker.tap.hold();
    const replies = Promise.all([acquire(POLICY_SCOPE), acquire(POLICY_SCOPE_BY_ID)]);
    for (let i = 0; i < 400 && broker.tap.calls - before.calls < 2; i++)
      await new Promise((r) => setTimeout(r, 25));
    expect(signs() - before.signs).toBe(1);
    release();
    for (const r of await replies) await valid(r);
    expect(broker.tap.calls - before.calls).toBe(3);
    expect(signs() - before.signs).toBe(2);
  });
});
