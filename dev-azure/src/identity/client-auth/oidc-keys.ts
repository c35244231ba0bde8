// Fetches an external issuer's signing keys the way Entra does for federated
// credentials: OIDC discovery document, then its jwks_uri. Cached briefly;
// an unknown kid triggers one refetch (key rotation on the issuer side).
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { rootCertificates } from 'node:tls';

const CACHE_MS = 5 * 60 * 1000;
const REFETCH_GAP_MS = 5 * 1000;
const MAX_BODY = 512 * 1024;

interface CachedKeys {
  keys: Map<string, KeyObject>;
  fetchedAt: number;
}

export class OidcKeyFetcher {
  private readonly cache = new Map<string, CachedKeys>();
  private readonly ca: string[] | undefined;

  /**
   * `extraCaPem` lets the stand-in reach HTTPS issuers signed by the dev CA without
   * NODE_EXTRA_CA_CERTS. An explicit CA list replaces Node's defaults, so the
   * NODE_EXTRA_CA_CERTS bundle is added back (on kind it holds the cluster CA that signs the
   * API server's issuer).
   */
  constructor(extraCaPem?: string, extraCaFile = process.env.NODE_EXTRA_CA_CERTS) {
    this.ca = extraCaPem
      ? [...rootCertificates, extraCaPem, ...readBundle(extraCaFile)]
      : undefined;
  }

  /** The issuer's key `kid`; throws when the issuer cannot be reached or its documents are invalid. */
  async key(issuer: string, kid: string | undefined): Promise<KeyObject | undefined> {
    let cached = this.cache.get(issuer);
    const stale = !cached || Date.now() - cached.fetchedAt > CACHE_MS;
    const miss =
      cached &&
      kid !== undefined &&
      !cached.keys.has(kid) &&
      Date.now() - cached.fetchedAt > REFETCH_GAP_MS;
    if (stale || miss) {
      cached = { keys: await this.fetchKeys(issuer), fetchedAt: Date.now() };
      this.cache.set(issuer, cached);
    }
    if (!cached) return undefined;
    if (kid !== undefined) return cached.keys.get(kid);
    // No kid: only unambiguous when the issuer has a single key.
    return cached.keys.size === 1 ? [...cached.keys.values()][0] : undefined;
  }

  private async fetchKeys(issuer: string): Promise<Map<string, KeyObject>> {
    const metadata = await this.getJson(
      `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`,
    );
    if (metadata.issuer !== issuer) throw new Error('issuer in discovery document does not match');
    if (typeof metadata.jwks_uri !== 'string' || !metadata.jwks_uri.startsWith('https://'))
      throw new Error('no https jwks_uri');
    const jwks = await this.getJson(metadata.jwks_uri);
    const keys = new Map<string, KeyObject>();
    for (const entry of Array.isArray(jwks.keys) ? jwks.keys : []) {
      const jwk = (entry ?? {}) as Record<string, unknown>;
      if (
        jwk.kty !== 'RSA' ||
        typeof jwk.kid !== 'string' ||
        typeof jwk.n !== 'string' ||
        typeof jwk.e !== 'string'
      )
        continue;
      try {
        keys.set(
          jwk.kid,
          createPublicKey({ key: { kty: 'RSA', n: jwk.n, e: jwk.e }, format: 'jwk' }),
        );
      } catch {
        /* skip unusable keys */
      }
    }
    return keys;
  }

  private getJson(url: string): Promise<Record<string, unknown> & { keys?: unknown[] }> {
    return new Promise((resolve, reject) => {
      const req = https.get(
        url,
        { ca: this.ca, timeout: 5000, headers: { accept: 'application/json' } },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            reject(new Error(`GET ${url}: HTTP ${res.statusCode}`));
            return;
          }
          let size = 0;
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_BODY) req.destroy(new Error('response too large'));
            else chunks.push(c);
          });
          res.on('end', () => {
            try {
              const v: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
              if (!v || typeof v !== 'object' || Array.isArray(v))
                throw new Error('not a JSON object');
              resolve(v as Record<string, unknown>);
            } catch (err) {
              reject(err as Error);
            }
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
    });
  }
}

/** The certificates of a PEM bundle file (none when unset or unreadable, as Node itself treats it). */
function readBundle(file: string | undefined): string[] {
  if (!file) return [];
  try {
    return (
      readFileSync(file, 'utf8').match(
        /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g,
      ) ?? []
    );
  } catch {
    return [];
  }
}
