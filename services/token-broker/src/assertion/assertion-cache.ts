/** A signed client assertion and how often the broker has sent it. */
export interface HeldAssertion {
  readonly jwt: string;
  /** Key Vault key version that signed it (diagnostics). */
  readonly keyId: string;
  /** Broker clock (epoch ms) from which it is no longer presented: its lifetime minus the safety margin. */
  readonly usableUntil: number;
  /** Token requests it has been sent with so far. */
  presentations: number;
}

export interface AssertionCacheOptions {
  /** Lifetime the assertions are signed with (ms). */
  lifetimeMs: number;
  /** Stop presenting an assertion this long before it expires (ms): request time and clock difference to Entra. */
  safetyMarginMs: number;
  now: () => number;
}

interface Slot {
  held?: HeldAssertion;
  signing?: Promise<HeldAssertion>;
}

/**
 * Client assertions per (token endpoint, client, certificate, algorithm): everything that goes
 * into one. Signing costs a Key Vault operation, so an assertion is reused — across retries and
 * across concurrent misses of every scope and registration that would sign the same thing — until
 * it (a) nears its expiry, (b) bought a token, or (c) was refused. (b) because RFC 7523 lets a
 * server refuse a `jti` it has seen (oidc-provider and the dev stand-in do; Entra does not); (c)
 * because a refused assertion (bad signature, unknown key, ...) will not get better. Concurrent
 * takers of a missing assertion share one signing (single flight).
 */
export class AssertionCache {
  private readonly slots = new Map<string, Slot>();

  constructor(private readonly o: AssertionCacheOptions) {}

  /** The held assertion for `key` while usable, else the one being signed, else a new one from `sign`. */
  async take(
    key: string,
    sign: () => Promise<{ jwt: string; keyId: string }>,
  ): Promise<HeldAssertion> {
    let slot = this.slots.get(key);
    if (!slot) this.slots.set(key, (slot = {}));
    let held = slot.held;
    if (!held || this.o.now() >= held.usableUntil)
      held = await (slot.signing ??= this.sign(key, slot, sign));
    held.presentations++;
    return held;
  }

  /** Never present `held` again (it bought a token, or was refused). A newer assertion under `key` stays. */
  retire(key: string, held: HeldAssertion): void {
    const slot = this.slots.get(key);
    if (slot?.held !== held) return;
    slot.held = undefined;
    if (!slot.signing) this.slots.delete(key);
  }

  private sign(
    key: string,
    slot: Slot,
    sign: () => Promise<{ jwt: string; keyId: string }>,
  ): Promise<HeldAssertion> {
    // Measured from before signing, so the margin holds however long Key Vault took.
    const startedAt = this.o.now();
    const done = (): void => {
      slot.signing = undefined;
      if (!slot.held && this.slots.get(key) === slot) this.slots.delete(key);
    };
    return sign().then(
      (a) => {
        const held: HeldAssertion = {
          jwt: a.jwt,
          keyId: a.keyId,
          usableUntil: startedAt + this.o.lifetimeMs - this.o.safetyMarginMs,
          presentations: 0,
        };
        slot.held = held;
        done();
        return held;
      },
      (e: unknown) => {
        done();
        throw e;
      },
    );
  }
}
