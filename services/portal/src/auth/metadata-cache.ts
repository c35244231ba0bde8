// OpenID metadata per user flow, fetched once and handed to every MSAL client
// (one per request) so a page view does not cost a discovery round trip.
import { Injectable } from '@nestjs/common';
import { CustomerAuthority, type AuthorityMetadata } from './customer-authority';
import { IDENTITY_PROVIDER_TIMEOUT_MS } from './msal-network';

const TTL_MS = 60 * 60 * 1000;
// After a failed fetch, requests fail at once for a while instead of each waiting for the timeout:
// the session check reads the issuer on every signed-in request (session.hooks), and an identity
// provider outage must not make every page wait 10 s.
const RETRY_AFTER_MS = 30 * 1000;

type Entry = { at: number; json: string; meta: AuthorityMetadata };

@Injectable()
export class MetadataCache {
  private readonly entries = new Map<string, Entry>();

  private readonly failures = new Map<string, { at: number; error: Error }>();

  /** One fetch per flow at a time: concurrent requests (at start, at expiry) share it. */
  private readonly inflight = new Map<string, Promise<Entry>>();

  constructor(private readonly authority: CustomerAuthority) {}

  /**
   * The flow's metadata. `recheck`: a copy at most 30 s old (fetched again if older, unless a
   * fetch failed in the last 30 s), for a caller that found the cached copy contradicted (an
   * issuer that changed at the provider) before it acts on it.
   */
  async get(flow: string, o: { recheck?: boolean } = {}): Promise<Entry> {
    const key = flow.toLowerCase();
    const hit = this.entries.get(key);
    const maxAge = o.recheck ? RETRY_AFTER_MS : TTL_MS;
    if (hit && Date.now() - hit.at < maxAge) return hit;
    // An older copy serves while the provider cannot be reached (metadata seldom changes).
    const failed = this.failures.get(key);
    if (failed && Date.now() - failed.at < RETRY_AFTER_MS) {
      if (hit) return hit;
      throw failed.error;
    }
    try {
      return await this.fetchShared(key, flow);
    } catch (e) {
      if (hit) return hit;
      throw e;
    }
  }

  private fetchShared(key: string, flow: string): Promise<Entry> {
    const running = this.inflight.get(key);
    if (running) return running;
    const p = this.fetch(flow)
      .then(
        (entry) => {
          this.entries.set(key, entry);
          this.failures.delete(key);
          return entry;
        },
        (e: unknown) => {
          const error = e instanceof Error ? e : new Error(String(e));
          this.failures.set(key, { at: Date.now(), error });
          throw error;
        },
      )
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private async fetch(flow: string): Promise<Entry> {
    const url = this.authority.metadataUrl(flow);
    const r = await fetch(url, { signal: AbortSignal.timeout(IDENTITY_PROVIDER_TIMEOUT_MS) });
    if (!r.ok) throw new Error(`openid-configuration for ${flow}: HTTP ${r.status}`);
    const meta = (await r.json()) as AuthorityMetadata;
    if (
      typeof meta.authorization_endpoint !== 'string' ||
      typeof meta.token_endpoint !== 'string'
    ) {
      throw new Error(`openid-configuration for ${flow} lacks endpoints`);
    }
    return { at: Date.now(), json: JSON.stringify(meta), meta };
  }
}
