// OpenID metadata per user flow, fetched once and handed to every MSAL client
// (one per request) so a page view does not cost a discovery round trip.
import { Injectable } from '@nestjs/common';
import { CustomerAuthority, type AuthorityMetadata } from './customer-authority';

const TTL_MS = 60 * 60 * 1000;

@Injectable()
export class MetadataCache {
  private readonly entries = new Map<
    string,
    { at: number; json: string; meta: AuthorityMetadata }
  >();

  constructor(private readonly authority: CustomerAuthority) {}

  async get(flow: string): Promise<{ json: string; meta: AuthorityMetadata }> {
    const key = flow.toLowerCase();
    const hit = this.entries.get(key);
    if (hit && Date.now() - hit.at < TTL_MS) return hit;
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
    const entry = { at: Date.now(), json: JSON.stringify(meta), meta };
    this.entries.set(key, entry);
    return entry;
  }
}
