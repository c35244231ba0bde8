// Signing over a precomputed digest, as Key Vault does: the client hashes, the vault only
// applies the private-key operation. node:crypto always hashes in sign(), so this uses raw
// RSA private-key operations with the padding built here. RSA only: the token broker signs
// its client assertions with PS256 or RS256 (384/512 cost nothing extra).
import {
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  privateEncrypt,
  randomBytes,
} from 'node:crypto';
import { badParameter } from './errors';

export type KeyType = 'RSA';
export const SIGN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const;
export type SignAlgorithm = (typeof SIGN_ALGORITHMS)[number];

export interface PublicJwk {
  kty: KeyType;
  n?: string;
  e?: string;
}

type HashName = 'sha256' | 'sha384' | 'sha512';
const HASH_OF: Record<SignAlgorithm, HashName> = {
  RS256: 'sha256',
  RS384: 'sha384',
  RS512: 'sha512',
  PS256: 'sha256',
  PS384: 'sha384',
  PS512: 'sha512',
};
const HASH_LEN: Record<HashName, number> = { sha256: 32, sha384: 48, sha512: 64 };

// DER DigestInfo prefixes (RFC 8017 §9.2 note 1).
const DIGEST_INFO: Record<HashName, Buffer> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

export const RSA_KEY_SIZES = [2048, 3072, 4096] as const;

/** PKCS#8 PEM of a fresh RSA private key. */
export function generatePrivateKeyPem(keySize = 2048): string {
  if (!(RSA_KEY_SIZES as readonly number[]).includes(keySize))
    throw badParameter(`Unsupported key size ${keySize}. Supported: 2048, 3072, 4096.`);
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: keySize,
    publicExponent: 0x10001,
  });
  return privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

export function publicJwkOf(privateKeyPem: string): PublicJwk {
  const jwk = createPublicKey(privateKeyPem).export({ format: 'jwk' });
  return { kty: 'RSA', n: jwk.n, e: jwk.e };
}

export function signDigest(privateKeyPem: string, alg: SignAlgorithm, digest: Buffer): Buffer {
  const hash = HASH_OF[alg];
  if (digest.length !== HASH_LEN[hash]) {
    throw badParameter(
      `Invalid digest length ${digest.length} for algorithm ${alg}; expected ${HASH_LEN[hash]} bytes.`,
    );
  }
  const key = createPrivateKey(privateKeyPem);
  if (alg.startsWith('RS')) {
    // privateEncrypt with PKCS#1 padding is exactly RSASSA-PKCS1-v1_5 over a DigestInfo.
    return privateEncrypt(
      { key, padding: constants.RSA_PKCS1_PADDING },
      Buffer.concat([DIGEST_INFO[hash], digest]),
    );
  }
  const modBits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  const em = emsaPssEncode(digest, modBits - 1, hash);
  const k = Math.ceil(modBits / 8);
  const block = Buffer.concat([Buffer.alloc(k - em.length), em]);
  return privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, block);
}

function mgf1(seed: Buffer, length: number, hash: HashName): Buffer {
  const out: Buffer[] = [];
  let produced = 0;
  for (let counter = 0; produced < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    const block = createHash(hash).update(seed).update(c).digest();
    out.push(block);
    produced += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

/** EMSA-PSS-ENCODE (RFC 8017 §9.1.1) with salt length = digest length, as Key Vault uses. */
function emsaPssEncode(mHash: Buffer, emBits: number, hash: HashName): Buffer {
  const hLen = HASH_LEN[hash];
  const sLen = hLen;
  const emLen = Math.ceil(emBits / 8);
  if (emLen < hLen + sLen + 2) throw badParameter('Key too small for the requested algorithm.');
  const salt = randomBytes(sLen);
  const h = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const db = Buffer.concat([Buffer.alloc(emLen - sLen - hLen - 2), Buffer.from([1]), salt]);
  const mask = mgf1(h, emLen - hLen - 1, hash);
  for (let i = 0; i < db.length; i++) db[i] = (db[i] ?? 0) ^ (mask[i] ?? 0);
  db[0] = (db[0] ?? 0) & (0xff >> (8 * emLen - emBits));
  return Buffer.concat([db, h, Buffer.from([0xbc])]);
}
