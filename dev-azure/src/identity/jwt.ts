// Minimal JWS (compact) signing and verification on node:crypto, so the
// stand-in controls every header and maps each failure to Azure's error.
import { sign, verify, constants, type KeyObject } from 'node:crypto';
import { base64url, fromBase64url } from '../util/encoding';

export type JsonObject = Record<string, unknown>;

export interface DecodedJwt {
  header: JsonObject;
  payload: JsonObject;
  signingInput: string;
  signature: Buffer;
}

const MAX_JWT_LENGTH = 16 * 1024;

const ALGORITHMS: Partial<Record<string, { hash: string; pss: boolean }>> = {
  RS256: { hash: 'sha256', pss: false },
  RS384: { hash: 'sha384', pss: false },
  RS512: { hash: 'sha512', pss: false },
  PS256: { hash: 'sha256', pss: true },
  PS384: { hash: 'sha384', pss: true },
  PS512: { hash: 'sha512', pss: true },
};

export function isSupportedAlg(alg: unknown): alg is keyof typeof ALGORITHMS {
  return typeof alg === 'string' && Object.hasOwn(ALGORITHMS, alg);
}

/** Parses a compact JWS; undefined when it is not one (no signature check). */
export function decodeJwt(token: unknown): DecodedJwt | undefined {
  if (typeof token !== 'string' || token.length > MAX_JWT_LENGTH) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [h = '', p = '', s = ''] = parts;
  const header = parseJsonObject(fromBase64url(h));
  const payload = parseJsonObject(fromBase64url(p));
  const signature = fromBase64url(s);
  if (!header || !payload || !signature || signature.length === 0) return undefined;
  return { header, payload, signingInput: `${h}.${p}`, signature };
}

function parseJsonObject(buf: Buffer | undefined): JsonObject | undefined {
  if (!buf) return undefined;
  try {
    const value: unknown = JSON.parse(buf.toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as JsonObject)
      : undefined;
  } catch {
    return undefined;
  }
}

export function signJwt(header: JsonObject, payload: JsonObject, key: KeyObject): string {
  const alg = typeof header.alg === 'string' ? header.alg : 'RS256';
  const spec = ALGORITHMS[alg];
  if (!spec) throw new Error(`unsupported alg ${alg}`);
  const input = `${base64url(JSON.stringify({ ...header, alg }))}.${base64url(JSON.stringify(payload))}`;
  const sig = sign(
    spec.hash,
    Buffer.from(input),
    spec.pss
      ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: hashLength(spec.hash) }
      : key,
  );
  return `${input}.${base64url(sig)}`;
}

/** Verifies the signature with the algorithm named in the header (RSxxx and PSxxx only). */
export function verifyJwtSignature(jwt: DecodedJwt, key: KeyObject): boolean {
  const alg = jwt.header.alg;
  const spec = isSupportedAlg(alg) ? ALGORITHMS[alg] : undefined;
  if (!spec) return false;
  try {
    return verify(
      spec.hash,
      Buffer.from(jwt.signingInput),
      spec.pss
        ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: hashLength(spec.hash) }
        : key,
      jwt.signature,
    );
  } catch {
    return false;
  }
}

function hashLength(hash: string): number {
  return hash === 'sha256' ? 32 : hash === 'sha384' ? 48 : 64;
}

export function claimString(payload: JsonObject, name: string): string | undefined {
  const v = payload[name];
  return typeof v === 'string' ? v : undefined;
}

export function claimNumber(payload: JsonObject, name: string): number | undefined {
  const v = payload[name];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** `aud` may be a string or an array of strings. */
export function claimAudiences(payload: JsonObject): string[] {
  const v = payload.aud;
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}
