// Signing keys of the test token issuer, and the forged tokens negative tests need.
import { generateKeyPair as generateNodeKeyPair, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  exportJWK,
  exportSPKI,
  generateKeyPair,
  importJWK,
  importPKCS8,
  SignJWT,
  type CryptoKey,
  type JWK,
} from 'jose';

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
    const { publicKey, privateKey } =
      alg === 'ES256' ? await generateKeyPair(alg, { extractable: true }) : await rsaKeyPair(alg);
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

// RSA key generation costs 100+ ms a key, most of a fast test tier's time; the n-th RSA key a
// test file asks for is therefore kept under the OS temp directory and reused by later runs
// (distinct keys within a file, as each file counts from 0). Test-only keys: nothing trusts them.
const keyCache = join(tmpdir(), 'idp-test-keys');
let rsaKeysHandedOut = 0;

async function rsaPrivatePem(): Promise<string> {
  const file = join(keyCache, `rsa-2048-${rsaKeysHandedOut++}.pem`);
  const cached = await readFile(file, 'utf8').catch(() => undefined);
  if (cached?.includes('PRIVATE KEY')) return cached;
  const { privateKey } = await promisify(generateNodeKeyPair)('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const partial = `${file}.${randomUUID()}`;
  await mkdir(keyCache, { recursive: true, mode: 0o700 })
    .then(() => writeFile(partial, pem, { mode: 0o600 }))
    .then(() => rename(partial, file))
    .catch(() => undefined); // no cache (e.g. another user's directory): keys are just not kept
  return pem;
}

async function rsaKeyPair(alg: 'RS256' | 'PS256') {
  const privateKey = await importPKCS8(await rsaPrivatePem(), alg, { extractable: true });
  // The public half from the private JWK's modulus and exponent: WebCrypto only, no KeyObject
  // (node's KeyObject.export misbehaved inside Jest's sandbox now and then).
  const { kty, n, e } = await exportJWK(privateKey);
  const publicKey = await importJWK({ kty, n, e }, alg, { extractable: true });
  if (publicKey instanceof Uint8Array) throw new TypeError('expected an RSA public key');
  return { privateKey, publicKey };
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
