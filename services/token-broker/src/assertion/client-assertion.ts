import { constants, createHash, randomUUID, verify } from 'node:crypto';
import { RetryableError } from '../broker/broker-error';
import type { SigningCertificate } from '../keyvault/certificate-reader';
import type { AssertionAlgorithm, DigestSigner } from '../keyvault/key-signer';

/** Microsoft's limit for a client assertion's lifetime. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 600;

export interface AssertionInput {
  clientId: string;
  /** The exact token endpoint URL the assertion is presented to. */
  audience: string;
  certificate: SigningCertificate;
  algorithm: AssertionAlgorithm;
  /** Seconds; capped at 10 minutes. */
  lifetimeSeconds?: number;
  nowSeconds?: number;
}

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/**
 * Builds a certificate client assertion (RFC 7523) and has the vault sign its SHA-256 digest.
 * PS256 with `x5t#S256` is the form Microsoft documents now; RS256 with `x5t` (SHA-1) is the
 * legacy form some registrations still need.
 */
export async function buildClientAssertion(
  i: AssertionInput,
  signer: DigestSigner,
): Promise<string> {
  const now = i.nowSeconds ?? Math.floor(Date.now() / 1000);
  const lifetime = Math.min(
    i.lifetimeSeconds ?? MAX_ASSERTION_LIFETIME_SECONDS,
    MAX_ASSERTION_LIFETIME_SECONDS,
  );
  const header =
    i.algorithm === 'PS256'
      ? { alg: 'PS256', typ: 'JWT', 'x5t#S256': i.certificate.x5tS256 }
      : { alg: 'RS256', typ: 'JWT', x5t: i.certificate.x5t };
  const claims = {
    aud: i.audience,
    iss: i.clientId,
    sub: i.clientId,
    jti: randomUUID(),
    nbf: now,
    iat: now,
    exp: now + lifetime,
  };
  const signingInput = `${b64url(header)}.${b64url(claims)}`;
  const digest = createHash('sha256').update(signingInput).digest();
  const signature = await signer.sign(i.certificate.keyId, i.algorithm, digest);
  // Checked as Entra will check it, against the certificate in the header: a signature by another
  // key or algorithm, or garbage, is never presented (Entra would refuse it, final for the request).
  if (!verifies(signingInput, signature, i))
    throw new RetryableError(
      `Key Vault returned a ${i.algorithm} signature that does not verify with certificate ${i.certificate.name}`,
      'unavailable',
    );
  return `${signingInput}.${signature.toString('base64url')}`;
}

function verifies(signingInput: string, signature: Buffer, i: AssertionInput): boolean {
  try {
    return verify(
      'sha256',
      Buffer.from(signingInput),
      i.algorithm === 'PS256'
        ? // JWA PS256: MGF1 with SHA-256, salt as long as the hash (RFC 7518 §3.5), as Key Vault signs.
          { key: i.certificate.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
        : { key: i.certificate.publicKey, padding: constants.RSA_PKCS1_PADDING },
      signature,
    );
  } catch {
    return false; // not an RSA key, or a signature of the wrong length
  }
}
