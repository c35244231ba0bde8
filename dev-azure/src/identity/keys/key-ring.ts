// Per-issuer RSA signing keys, persisted so tokens survive restarts. Rotation
// adds a key and makes it active; older keys stay in the JWKS until they age
// out, as Azure publishes both while it rolls keys.
import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { StateStore } from '../../store/state-store';
import { base64url, sha256 } from '../../util/encoding';
import { signJwt, type JsonObject } from '../jwt';

const generateRsa = promisify(generateKeyPair);
const KEEP_KEYS = 3;

export interface PublicJwk {
  kid: string;
  kty: 'RSA';
  use: 'sig';
  alg: 'RS256';
  n: string;
  e: string;
}

interface LoadedKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  jwk: PublicJwk;
}

export class KeyRing {
  private readonly cache = new Map<string, LoadedKey[]>();

  constructor(private readonly store: StateStore) {}

  /** Creates the issuer's first key if it has none. */
  async ensure(issuerKey: string): Promise<void> {
    if ((this.store.state.signingKeys[issuerKey] ?? []).length === 0) await this.rotate(issuerKey);
  }

  /** Adds a new active key; returns its kid. */
  async rotate(issuerKey: string): Promise<string> {
    const { privateKey } = await generateRsa('rsa', { modulusLength: 2048 });
    const loaded = load(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    const records = this.store.state.signingKeys[issuerKey] ?? [];
    records.push({
      kid: loaded.kid,
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      createdAt: Date.now(),
    });
    this.store.state.signingKeys[issuerKey] = records.slice(-KEEP_KEYS);
    this.cache.delete(issuerKey);
    this.store.save();
    return loaded.kid;
  }

  jwks(issuerKey: string): { keys: PublicJwk[] } {
    // Newest first, like Azure lists the current key first.
    return { keys: [...this.keys(issuerKey)].reverse().map((k) => k.jwk) };
  }

  publicKey(issuerKey: string, kid: string): KeyObject | undefined {
    return this.keys(issuerKey).find((k) => k.kid === kid)?.publicKey;
  }

  sign(issuerKey: string, payload: JsonObject, header: JsonObject = {}): string {
    const active = this.keys(issuerKey).at(-1);
    if (!active) throw new Error(`no signing key for ${issuerKey}`);
    return signJwt(
      { typ: 'JWT', alg: 'RS256', kid: active.kid, ...header },
      payload,
      active.privateKey,
    );
  }

  private keys(issuerKey: string): LoadedKey[] {
    let loaded = this.cache.get(issuerKey);
    if (!loaded) {
      loaded = (this.store.state.signingKeys[issuerKey] ?? []).map((r) => load(r.privateKeyPem));
      this.cache.set(issuerKey, loaded);
    }
    return loaded;
  }
}

function load(privateKeyPem: string): LoadedKey {
  const privateKey = createPrivateKey(privateKeyPem);
  const publicKey = createPublicKey(privateKey);
  const { n, e } = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  // RFC 7638 thumbprint as kid (required members in lexicographic order).
  const kid = base64url(sha256(JSON.stringify({ e, kty: 'RSA', n })));
  return { kid, privateKey, publicKey, jwk: { kid, kty: 'RSA', use: 'sig', alg: 'RS256', n, e } };
}
