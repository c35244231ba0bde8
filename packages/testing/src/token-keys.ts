// Signing keys of the test token issuer, and the forged tokens negative tests need.
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export type TestAlg = 'RS256' | 'PS256' | 'ES256';

export type Claims = Record<string, unknown>;

/** A signing key pair; its public half is what a JWKS publishes. */
export class TestKey {
  private constructor(
    readonly kid: string,
    readonly alg: TestAlg,
    readonly privateKey: CryptoKey,
    /** As Azure publishes it: kid and use, no alg. */
    readonly publicJwk: JWK,
    readonly publicPem: string,
  ) {}

  static async generate(kid: string, alg: TestAlg = 'RS256'): Promise<TestKey> {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), kid, use: 'sig' };
    return new TestKey(kid, alg, privateKey, publicJwk, await exportSPKI(publicKey));
  }

  /** The SPKI bytes of the public key (what an HS256 key-confusion attack uses as the secret). */
  publicKeyBytes(): Uint8Array {
    return new TextEncoder().encode(this.publicPem);
  }

  /** Signs the claims as they are (no defaults); `header` adds to or replaces typ/alg/kid. */
  sign(claims: Claims, header: Record<string, unknown> = {}): Promise<string> {
    return new SignJWT(claims)
      .setProtectedHeader({ typ: 'JWT', alg: this.alg, kid: this.kid, ...header })
      .sign(this.privateKey);
  }
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An unsigned `alg: none` token. */
export function unsignedToken(claims: Claims, kid: string): string {
  return `${b64url({ alg: 'none', typ: 'JWT', kid })}.${b64url(claims)}.`;
}

/** Same header and signature, changed payload. */
export function tamperPayload(token: string, changes: Claims): string {
  const [header = '', payload = '', signature = ''] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Claims;
  return `${header}.${b64url({ ...claims, ...changes })}.${signature}`;
}

/** An HS256 token whose HMAC secret is the given bytes, with a chosen kid. */
export function hs256Token(claims: Claims, secret: Uint8Array, kid: string): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid }).sign(secret);
}
