// Signing over a precomputed digest, as Key Vault does: the client hashes,
// the vault only applies the private-key operation. node:crypto always hashes
// in sign(), so RSA uses raw private-key operations with the padding built
// here, and ECDSA uses @noble/curves with prehash disabled.
import {
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  privateEncrypt,
  publicDecrypt,
  publicEncrypt,
  randomBytes,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { badParameter } from './errors';

export type KeyType = 'RSA' | 'EC';
export type Curve = 'P-256';
export const SIGN_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
] as const;
export type SignAlgorithm = (typeof SIGN_ALGORITHMS)[number];

export interface PublicJwk {
  kty: KeyType;
  n?: string;
  e?: string;
  crv?: Curve;
  x?: string;
  y?: string;
}

type HashName = 'sha256' | 'sha384' | 'sha512';
const HASH_OF: Record<SignAlgorithm, HashName> = {
  RS256: 'sha256',
  RS384: 'sha384',
  RS512: 'sha512',
  PS256: 'sha256',
  PS384: 'sha384',
  PS512: 'sha512',
  ES256: 'sha256',
};
const HASH_LEN: Record<HashName, number> = { sha256: 32, sha384: 48, sha512: 64 };

// DER DigestInfo prefixes (RFC 8017 §9.2 note 1).
const DIGEST_INFO: Record<HashName, Buffer> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

export const RSA_KEY_SIZES = [2048, 3072, 4096] as const;

/** PKCS#8 PEM of a fresh private key. */
export function generatePrivateKeyPem(
  kty: KeyType,
  opts: { keySize?: number; curve?: Curve } = {},
): string {
  if (kty === 'RSA') {
    const size = opts.keySize ?? 2048;
    if (!(RSA_KEY_SIZES as readonly number[]).includes(size))
      throw badParameter(`Unsupported key size ${size}. Supported: 2048, 3072, 4096.`);
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: size,
      publicExponent: 0x10001,
    });
    return privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  }
  const curve = opts.curve ?? 'P-256';
  if (curve !== 'P-256')
    throw badParameter(`Unsupported curve ${String(curve)}. Supported: P-256.`);
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** Key type and curve of a private key this vault can hold; throws BadParameter otherwise. */
export function describePrivateKey(key: KeyObject): {
  kty: KeyType;
  curve?: Curve;
  keySize?: number;
} {
  if (key.asymmetricKeyType === 'rsa')
    return { kty: 'RSA', keySize: key.asymmetricKeyDetails?.modulusLength };
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1')
    return { kty: 'EC', curve: 'P-256' };
  throw badParameter('Unsupported key type: only RSA and EC P-256 keys are supported.');
}

export function publicJwkOf(privateKeyPem: string): PublicJwk {
  const jwk = createPublicKey(privateKeyPem).export({ format: 'jwk' });
  if (jwk.kty === 'RSA') return { kty: 'RSA', n: jwk.n, e: jwk.e };
  return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
}

export function algorithmFitsKey(alg: SignAlgorithm, kty: KeyType): boolean {
  return alg.startsWith('ES') ? kty === 'EC' : kty === 'RSA';
}

function checkDigest(alg: SignAlgorithm, digest: Buffer): HashName {
  const hash = HASH_OF[alg];
  if (digest.length !== HASH_LEN[hash]) {
    throw badParameter(
      `Invalid digest length ${digest.length} for algorithm ${alg}; expected ${HASH_LEN[hash]} bytes.`,
    );
  }
  return hash;
}

export function signDigest(privateKeyPem: string, alg: SignAlgorithm, digest: Buffer): Buffer {
  const hash = checkDigest(alg, digest);
  const key = createPrivateKey(privateKeyPem);
  if (alg.startsWith('RS')) {
    // privateEncrypt with PKCS#1 padding is exactly RSASSA-PKCS1-v1_5 over a DigestInfo.
    return privateEncrypt(
      { key, padding: constants.RSA_PKCS1_PADDING },
      Buffer.concat([DIGEST_INFO[hash], digest]),
    );
  }
  if (alg.startsWith('PS')) {
    const modBits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    const em = emsaPssEncode(digest, modBits - 1, hash);
    const k = Math.ceil(modBits / 8);
    const block = Buffer.concat([Buffer.alloc(k - em.length), em]);
    return privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, block);
  }
  const d = Buffer.from(key.export({ format: 'jwk' }).d ?? '', 'base64url');
  return Buffer.from(p256.sign(digest, d, { prehash: false }));
}

export function verifyDigest(
  privateKeyPem: string,
  alg: SignAlgorithm,
  digest: Buffer,
  signature: Buffer,
): boolean {
  const hash = checkDigest(alg, digest);
  const pub = createPublicKey(privateKeyPem);
  try {
    if (alg.startsWith('RS')) {
      const recovered = publicDecrypt(
        { key: pub, padding: constants.RSA_PKCS1_PADDING },
        signature,
      );
      const expected = Buffer.concat([DIGEST_INFO[hash], digest]);
      return recovered.length === expected.length && timingSafeEqual(recovered, expected);
    }
    if (alg.startsWith('PS')) {
      const modBits = pub.asymmetricKeyDetails?.modulusLength ?? 0;
      const k = Math.ceil(modBits / 8);
      if (signature.length !== k) return false;
      const block = publicEncrypt({ key: pub, padding: constants.RSA_NO_PADDING }, signature);
      const emLen = Math.ceil((modBits - 1) / 8);
      return emsaPssVerify(digest, block.subarray(k - emLen), modBits - 1, hash);
    }
    const jwk = pub.export({ format: 'jwk' });
    const point = Buffer.concat([
      Buffer.from([4]),
      Buffer.from(jwk.x ?? '', 'base64url'),
      Buffer.from(jwk.y ?? '', 'base64url'),
    ]);
    return (
      signature.length === 64 &&
      p256.verify(signature, digest, point, { prehash: false, lowS: false })
    );
  } catch {
    // Malformed signatures (wrong length, out of range) simply do not verify.
    return false;
  }
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
  for (let i = 0; i < db.length; i++) db[i] ^= mask[i];
  db[0] &= 0xff >> (8 * emLen - emBits);
  return Buffer.concat([db, h, Buffer.from([0xbc])]);
}

/** EMSA-PSS-VERIFY (RFC 8017 §9.1.2), salt length = digest length. */
function emsaPssVerify(mHash: Buffer, em: Buffer, emBits: number, hash: HashName): boolean {
  const hLen = HASH_LEN[hash];
  const sLen = hLen;
  const emLen = Math.ceil(emBits / 8);
  if (em.length !== emLen || emLen < hLen + sLen + 2 || em[emLen - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const topMask = 0xff >> (8 * emLen - emBits);
  if ((maskedDb[0] & ~topMask & 0xff) !== 0) return false;
  const mask = mgf1(h, emLen - hLen - 1, hash);
  const db = Buffer.from(maskedDb);
  for (let i = 0; i < db.length; i++) db[i] ^= mask[i];
  db[0] &= topMask;
  const psLen = emLen - hLen - sLen - 2;
  for (let i = 0; i < psLen; i++) if (db[i] !== 0) return false;
  if (db[psLen] !== 1) return false;
  const salt = db.subarray(db.length - sLen);
  const h2 = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  return timingSafeEqual(h, h2);
}
