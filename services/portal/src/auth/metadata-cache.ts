// OpenID metadata per user flow, fetched once and handed to every MSAL client
// (one per request) so a page view does not cost a discovery round trip.
import { Injectable } from '@nestjs/common';
import { CustomerAuthority, type AuthorityMetadata } from './customer-authority';

const TTL_MS = 60 * 60 * 1000;
// After a failed fetch, requests fail at once for a while instead of each waiting for the timeout:
// the session check reads the issuer on every signed-in request (session.hooks), and an identity
// provider outage must not make every page wait 10 s.
const RETRY_AFTER_MS = 30 * 1000;

@Injectable()
export class MetadataCache {
  private readonly entries = new Map<
    string,
    { at: number; json: string; meta: AuthorityMetadata }
  >();

  private readonly failures = new Map<string, { at: number; error: Error }>();

  constructor(private readonly authority: CustomerAuthority) {}

  async get(flow: string): Promise<{ json: string; meta: AuthorityMetadata }> {
    const key = flow.toLowerCase();
    const hit = this.entries.get(key);
    if (hit && Date.now() - hit.at < TTL_MS) return hit;
    // An older copy serves while the provider cannot be reached (metadata seldom changes).
    const failed = this.failures.get(key);
    if (failed && Date.now() - failed.at < RETRY_AFTER_MS) {
      if (hit) return hit;
      throw failed.error;
    }
    try {
      const entry = await this.fetch(flow);
      this.entries.set(key, entry);
      this.failures.delete(key);
      return entry;
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      this.failures.set(key, { at: Date.now(), error });
      if (hit) return hit;
      throw error;
    }
  }

  private async fetch(
    flow: string,
  ): Promise<{ at: number; json: string; meta: AuthorityMetadata }> {
    const url = this.authority.metadataUrl(flow);
    const r = await fetch(url, { signal: AbortSignal.timeout(10000) });
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
