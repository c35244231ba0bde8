import { KeyObject, type webcrypto } from 'node:crypto';
import { importJWK } from 'jose';
import type { JwsAlgorithm } from './auth-options';
import { fetchJwks, fetchOpenIdMetadata, type FetchPolicy } from './metadata-client';
import { KeySourceUnavailableError } from './token-errors';

/** A public verification key usable for one algorithm, and the issuers whose metadata listed it. */
export interface KeyCandidate {
  key: KeyObject;
  /** `issuer` of every metadata document whose JWKS holds this key. */
  metadataIssuers: readonly string[];
}

type PublicJwk =
  | { kty: 'RSA'; n: string; e: string; alg?: string }
  | { kty: 'EC'; crv: 'P-256'; x: string; y: string; alg?: string };

interface KeyEntry {
  kid: string;
  jwk: PublicJwk;
  identity: string;
  metadataIssuers: string[];
  /** Imported once, on first use. */
  imported?: Promise<KeyObject | undefined>;
  /** The import's result once settled (null: unusable key). */
  key?: KeyObject | null;
}

interface SourceState {
  url: string;
  issuer?: string;
  authorizationEndpoint?: string;
  keys: Array<{ kid: string; jwk: PublicJwk; identity: string }>;
}

export interface KeyStoreOptions {
  metadataUrls: string[];
  fetchPolicy: FetchPolicy;
  refreshCooldownMs: number;
  maxAgeMs: number;
  clock: () => number;
  /** Called after a refresh changed the set of keys (not on the first load). */
  onKeysChanged: () => void;
}

export interface KeyStoreStats {
  refreshes: number;
  kids: string[];
  lastRefreshAt: number | undefined;
}

// While nothing has loaded yet (IdP not up), retry at most this often.
const INITIAL_RETRY_MS = 2000;

const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** Keeps only public signature keys we can use (RSA, EC P-256) that carry a kid. */
function toPublicJwk(raw: unknown): { kid: string; jwk: PublicJwk; identity: string } | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const k = raw as Record<string, unknown>;
  if (!str(k.kid)) return undefined;
  if (k.use !== undefined && k.use !== 'sig') return undefined;
  if (k.key_ops !== undefined && !(Array.isArray(k.key_ops) && k.key_ops.includes('verify'))) {
    return undefined;
  }
  const alg = str(k.alg) ? k.alg : undefined;
  let jwk: PublicJwk;
  if (k.kty === 'RSA' && str(k.n) && str(k.e)) {
    jwk = { kty: 'RSA', n: k.n, e: k.e, alg };
  } else if (k.kty === 'EC' && k.crv === 'P-256' && str(k.x) && str(k.y)) {
    jwk = { kty: 'EC', crv: 'P-256', x: k.x, y: k.y, alg };
  } else {
    return undefined; // oct, OKP, other curves: never used for verification
  }
  const material = jwk.kty === 'RSA' ? `${jwk.n}.${jwk.e}` : `${jwk.x}.${jwk.y}`;
  return { kid: k.kid, jwk, identity: `${k.kid}|${jwk.kty}|${material}|${alg ?? ''}` };
}

function fits(jwk: PublicJwk, alg: JwsAlgorithm): boolean {
  if (jwk.alg !== undefined && jwk.alg !== alg) return false;
  return alg === 'ES256' ? jwk.kty === 'EC' : jwk.kty === 'RSA';
}

/**
 * Signing keys from one or more OpenID metadata documents. Keys are cached;
 * an unknown kid triggers a refetch at most once per cooldown (concurrent
 * callers share the in-flight refetch), and stale keys refresh in the background.
 */
export class SigningKeyStore {
  private readonly sources: SourceState[];
  private index = new Map<string, KeyEntry[]>();
  private fingerprint = '';
  private inflight: Promise<void> | undefined;
  private lastRefreshAt: number | undefined;
  private loadedAt: number | undefined;
  private refreshes = 0;

  constructor(private readonly options: KeyStoreOptions) {
    this.sources = options.metadataUrls.map((url) => ({ url, keys: [] }));
  }

  /** Loads keys now; resolves even if some sources fail (they are retried later). */
  async warmUp(): Promise<void> {
    await this.refresh();
  }

  stats(): KeyStoreStats {
    return {
      refreshes: this.refreshes,
      kids: [...this.index.keys()],
      lastRefreshAt: this.lastRefreshAt,
    };
  }

  /**
   * Fast path without awaiting: the candidates when keys are loaded and the kid
   * is known and imported; undefined when {@link candidates} must be awaited.
   */
  cachedCandidates(kid: string, alg: JwsAlgorithm): KeyCandidate[] | undefined {
    if (this.loadedAt === undefined) return undefined;
    const entries = this.index.get(kid);
    if (entries === undefined) return undefined;
    this.refreshIfStale(this.options.clock());
    const out: KeyCandidate[] = [];
    for (const entry of entries) {
      if (!fits(entry.jwk, alg)) continue;
      if (entry.key === undefined) return undefined; // not imported yet
      if (entry.key) out.push({ key: entry.key, metadataIssuers: entry.metadataIssuers });
    }
    return out;
  }

  /** Issuers of the metadata documents loaded so far; undefined until one has loaded. */
  knownIssuers(): string[] | undefined {
    if (this.loadedAt === undefined) return undefined;
    return [...new Set(this.sources.flatMap((s) => (s.issuer ? [s.issuer] : [])))];
  }

  /** `authorization_endpoint` of the first loaded metadata document that names one. */
  authorizationEndpoint(): string | undefined {
    return this.sources.find((s) => s.authorizationEndpoint)?.authorizationEndpoint;
  }

  async candidates(kid: string, alg: JwsAlgorithm): Promise<KeyCandidate[]> {
    await this.ensureLoaded();
    const now = this.options.clock();
    this.refreshIfStale(now);
    let entries = this.index.get(kid);
    if (entries === undefined) {
      if (this.inflight) {
        await this.inflight;
      } else if (this.mayRefetch(now, this.options.refreshCooldownMs)) {
        await this.refresh();
      }
      entries = this.index.get(kid);
    }
    if (entries === undefined) return [];
    const out: KeyCandidate[] = [];
    for (const entry of entries) {
      if (!fits(entry.jwk, alg)) continue;
      const key = await this.imported(entry);
      if (key) out.push({ key, metadataIssuers: entry.metadataIssuers });
    }
    return out;
  }

  private refreshIfStale(now: number): void {
    if (
      !this.inflight &&
      this.loadedAt !== undefined &&
      now - this.loadedAt >= this.options.maxAgeMs &&
      this.mayRefetch(now, this.options.refreshCooldownMs)
    ) {
      void this.refresh(); // serve the cached keys meanwhile
    }
  }

  private mayRefetch(now: number, interval: number): boolean {
    return this.lastRefreshAt === undefined || now - this.lastRefreshAt >= interval;
  }

  private async ensureLoaded(): Promise<void> {
    if (this.loadedAt !== undefined) return;
    if (this.inflight) {
      await this.inflight;
    } else if (this.mayRefetch(this.options.clock(), INITIAL_RETRY_MS)) {
      await this.refresh();
    }
    if (this.loadedAt === undefined) {
      throw new KeySourceUnavailableError(
        'no signing keys could be loaded from the identity metadata',
      );
    }
  }

  /**
   * jose validates and imports the JWK; the verifier gets a KeyObject (node's
   * synchronous crypto.verify avoids WebCrypto's per-call thread-pool hop).
   */
  private imported(entry: KeyEntry): Promise<KeyObject | undefined> {
    entry.imported ??= (async () => {
      const { alg: _alg, ...jwk } = entry.jwk; // alg fit is checked per token
      try {
        const key = await importJWK(jwk, jwk.kty === 'EC' ? 'ES256' : 'RS256');
        if (key instanceof Uint8Array) return undefined;
        const keyObject = KeyObject.from(key as unknown as webcrypto.CryptoKey);
        const bits = keyObject.asymmetricKeyDetails?.modulusLength;
        if (keyObject.asymmetricKeyType === 'rsa' && (bits === undefined || bits < 2048))
          return undefined;
        return keyObject;
      } catch {
        return undefined;
      }
    })().then((key) => {
      entry.key = key ?? null;
      return key;
    });
    return entry.imported;
  }

  private refresh(): Promise<void> {
    if (this.inflight) return this.inflight;
    this.lastRefreshAt = this.options.clock();
    this.refreshes++;
    this.inflight = (async () => {
      try {
        const results = await Promise.all(this.sources.map((s) => this.loadSource(s)));
        this.rebuildIndex(results.some(Boolean));
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }

  private async loadSource(source: SourceState): Promise<boolean> {
    const policy = this.options.fetchPolicy;
    try {
      const metadata = await fetchOpenIdMetadata(source.url, policy);
      const rawKeys = await fetchJwks(metadata.jwks_uri, policy);
      source.issuer = metadata.issuer;
      const authorize = metadata.authorization_endpoint;
      source.authorizationEndpoint = typeof authorize === 'string' ? authorize : undefined;
      source.keys = rawKeys.map(toPublicJwk).filter((k) => k !== undefined);
      return true;
    } catch {
      // Keep the keys this source had; a failed fetch must not drop them.
      return false;
    }
  }

  private rebuildIndex(anyLoadedNow: boolean): void {
    const previous = new Map<string, KeyEntry>();
    for (const entries of this.index.values()) for (const e of entries) previous.set(e.identity, e);

    const byIdentity = new Map<string, KeyEntry>();
    for (const source of this.sources) {
      for (const k of source.keys) {
        let entry = byIdentity.get(k.identity);
        if (!entry) {
          const old = previous.get(k.identity);
          entry = {
            kid: k.kid,
            jwk: k.jwk,
            identity: k.identity,
            metadataIssuers: [],
            imported: old?.imported,
            key: old?.key,
          };
          byIdentity.set(k.identity, entry);
        }
        if (source.issuer && !entry.metadataIssuers.includes(source.issuer)) {
          entry.metadataIssuers.push(source.issuer);
        }
      }
    }
    const index = new Map<string, KeyEntry[]>();
    for (const entry of byIdentity.values()) {
      const list = index.get(entry.kid);
      if (list) list.push(entry);
      else index.set(entry.kid, [entry]);
    }
    const fingerprint = [...byIdentity.entries()]
      .map(([id, e]) => `${id}@${e.metadataIssuers.join(',')}`)
      .sort()
      .join('\n');
    this.index = index;
    if (anyLoadedNow) this.loadedAt = this.options.clock();
    const changed = this.fingerprint !== '' && fingerprint !== this.fingerprint;
    this.fingerprint = fingerprint;
    if (changed) this.options.onKeysChanged();
  }
}
