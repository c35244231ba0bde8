import { Inject, Injectable } from '@nestjs/common';
import { BrokerError } from '../broker/broker-error';
import { TOKEN_CACHE_OPTIONS } from '../broker/broker.tokens';

export interface FetchedToken {
  accessToken: string;
  /** Epoch milliseconds. */
  expiresOn: number;
  /** Key Vault key version that signed the assertion (diagnostics, never secret). */
  keyId: string;
}

export interface CacheOptions {
  /** Refresh at least this long before expiry (ms), or at half the lifetime if that is earlier. */
  refreshMarginMs: number;
  /** A token closer than this to expiry is not handed out (ms). */
  minRemainingMs: number;
  now?: () => number;
  /** Called when a background refresh fails (the cached token keeps being served). */
  onRefreshError?: (key: string, e: unknown) => void;
}

interface Entry {
  value?: FetchedToken;
  refreshAt: number;
  inflight?: Promise<FetchedToken>;
  /** Served from cache since the last fetch completed (worth refreshing). */
  used: boolean;
  fetch: () => Promise<FetchedToken>;
}

export type CacheResult = { token: FetchedToken; cache: 'hit' | 'miss' };

/**
 * In-memory tokens per (tenant, client, scope). Concurrent misses share one fetch (single
 * flight); tokens are refreshed ahead of expiry; while a refresh fails the still-valid token
 * is served.
 */
@Injectable()
export class TokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(@Inject(TOKEN_CACHE_OPTIONS) private readonly o: CacheOptions) {
    this.now = o.now ?? Date.now;
  }

  async get(key: string, fetch: () => Promise<FetchedToken>): Promise<CacheResult> {
    const now = this.now();
    let e = this.entries.get(key);
    if (!e) {
      e = { refreshAt: 0, used: false, fetch };
      this.entries.set(key, e);
    }
    e.fetch = fetch;
    if (e.value && this.usable(e.value, now)) {
      e.used = true;
      // Failures are handled inside (onRefreshError); the hit does not wait for the refresh.
      if (now >= e.refreshAt) void this.refreshInBackground(key, e);
      return { token: e.value, cache: 'hit' };
    }
    return { token: await this.start(e), cache: 'miss' };
  }

  /** Refreshes every entry past its refresh time that was used since it was fetched; drops idle ones. */
  refreshDue(): Promise<void> {
    const now = this.now();
    const running: Promise<unknown>[] = [];
    for (const [key, e] of this.entries) {
      if (e.inflight || now < e.refreshAt) continue;
      const idle = !e.used;
      if (idle && (!e.value || !this.usable(e.value, now))) {
        this.entries.delete(key);
        continue;
      }
      if (idle) continue; // keep serving until it expires; a request will refresh it
      running.push(this.refreshInBackground(key, e));
    }
    return Promise.all(running).then(() => undefined);
  }

  snapshot(): Array<{ key: string; expiresOn?: number; keyId?: string; refreshAt: number }> {
    return [...this.entries].map(([key, e]) => ({
      key,
      expiresOn: e.value?.expiresOn,
      keyId: e.value?.keyId,
      refreshAt: e.refreshAt,
    }));
  }

  private usable(t: FetchedToken, now: number): boolean {
    return t.expiresOn - now > this.o.minRemainingMs;
  }

  private refreshInBackground(key: string, e: Entry): Promise<void> {
    if (e.inflight) return e.inflight.then(noop, noop);
    return this.start(e).then(noop, (err: unknown) => {
      // Try again a little later rather than on every request.
      const remaining = (e.value?.expiresOn ?? this.now()) - this.now();
      e.refreshAt = this.now() + Math.max(1000, Math.min(30000, remaining / 4));
      this.o.onRefreshError?.(key, err);
    });
  }

  private start(e: Entry): Promise<FetchedToken> {
    if (e.inflight) return e.inflight;
    const startedAt = this.now();
    const p = e.fetch().then(
      (t) => {
        const lifetime = Math.max(0, t.expiresOn - startedAt);
        const margin = Math.max(lifetime / 2, Math.min(this.o.refreshMarginMs, lifetime * 0.9));
        e.value = t;
        e.used = false;
        e.refreshAt = t.expiresOn - margin;
        e.inflight = undefined;
        return t;
      },
      (err: unknown) => {
        e.inflight = undefined;
        throw err instanceof BrokerError
          ? err
          : new BrokerError('upstream_unavailable', 'token acquisition failed');
      },
    );
    e.inflight = p;
    return p;
  }
}

const noop = (): void => undefined;
