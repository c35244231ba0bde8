import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export type TestAlg = 'RS256' | 'PS256' | 'ES256';

/** A signing key pair of the local IdP. */
export class TestKey {
  private constructor(
    readonly kid: string,
    readonly alg: TestAlg,
    readonly privateKey: CryptoKey,
    readonly publicJwk: JWK,
    readonly publicPem: string,
  ) {}

  static async generate(kid: string, alg: TestAlg = 'RS256'): Promise<TestKey> {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    // Azure's JWKS entries carry kid/use but no alg.
    const publicJwk = { ...(await exportJWK(publicKey)), kid, use: 'sig' };
    return new TestKey(kid, alg, privateKey, publicJwk, await exportSPKI(publicKey));
  }

  /** The SPKI bytes of the public key (what an HS256 confusion attack uses as the secret). */
  publicKeyBytes(): Uint8Array {
    return new TextEncoder().encode(this.publicPem);
  }

  sign(claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
    return new SignJWT(claims)
      .setProtectedHeader({ typ: 'JWT', alg: this.alg, kid: this.kid, ...header })
      .sign(this.privateKey);
  }
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An unsigned `alg: none` token. */
export function unsignedToken(claims: Record<string, unknown>, kid: string): string {
  return `${b64url({ alg: 'none', typ: 'JWT', kid })}.${b64url(claims)}.`;
}

/** Same header and signature, different payload. */
export function tamperPayload(token: string, changes: Record<string, unknown>): string {
  const [header, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload as string, 'base64url').toString()) as Record<
    string,
    unknown
  >;
  return `${header}.${b64url({ ...claims, ...changes })}.${signature}`;
}

/** HS256 token whose HMAC secret is the given bytes, with a chosen kid. */
export function hs256Token(
  claims: Record<string, unknown>,
  secret: Uint8Array,
  kid: string,
): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid }).sign(secret);
}
