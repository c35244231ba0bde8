import { constants, verify as verifySignature, type KeyObject } from 'node:crypto';
import {
  decodeProtectedHeader,
  errors as joseErrors,
  UnsecuredJWT,
  type JWTClaimVerificationOptions,
  type ProtectedHeaderParameters,
} from 'jose';
import {
  resolveAuthOptions,
  type AuthOptions,
  type JwsAlgorithm,
  type ResolvedAuthOptions,
} from './auth-options';
import { principalFromClaims, type Principal } from './principal';
import { SigningKeyStore, type KeyCandidate, type KeyStoreStats } from './signing-key-store';
import { InvalidTokenError, KeySourceUnavailableError, type RejectionReason } from './token-errors';
import { VerifiedTokenCache, type CacheStats } from './verified-token-cache';

// Larger than any Azure access token; bounds hashing and parsing work.
const MAX_TOKEN_LENGTH = 16 * 1024;
// Compact JWS: three base64url segments (the signature may be empty, e.g. alg "none").
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
// base64url('{"alg":"none"}'): lets jose validate an already-verified claims set.
const UNSECURED_HEADER = 'eyJhbGciOiJub25lIn0';

const REQUIRED_CLAIMS = ['exp'];
const PSS = {
  padding: constants.RSA_PKCS1_PSS_PADDING,
  saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
};

/** Synchronous JWS signature check (RFC 7518 §3.3-3.5); the allow-list and key type were checked before. */
function signatureValid(
  alg: JwsAlgorithm,
  key: KeyObject,
  input: Buffer,
  signature: Buffer,
): boolean {
  try {
    switch (alg) {
      case 'RS256':
        return key.asymmetricKeyType === 'rsa' && verifySignature('sha256', input, key, signature);
      case 'PS256':
        return (
          key.asymmetricKeyType === 'rsa' &&
          verifySignature('sha256', input, { key, ...PSS }, signature)
        );
      case 'ES256':
        return (
          key.asymmetricKeyType === 'ec' &&
          signature.length === 64 &&
          verifySignature('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, signature)
        );
    }
  } catch {
    return false;
  }
}

function reasonOf(err: unknown): RejectionReason {
  if (err instanceof InvalidTokenError) return err.reason;
  if (err instanceof joseErrors.JWTExpired) return 'expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return 'not_yet_valid';
    if (err.claim === 'iss') return 'issuer';
    if (err.claim === 'aud') return 'audience';
    return err.reason === 'missing' ? 'missing_claim' : 'invalid';
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'algorithm_not_allowed';
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid)
    return 'malformed';
  return 'invalid';
}

/**
 * Framework-free validation of Azure AD B2C / Entra ID access tokens:
 * signature against the discovered JWKS, algorithm allow-list, issuer,
 * audience, exp/nbf with bounded skew, B2C user flow; then a typed principal.
 * Verified tokens are cached (see {@link VerifiedTokenCache}).
 */
export class TokenValidator {
  readonly options: ResolvedAuthOptions;
  private readonly keys: SigningKeyStore;
  private readonly cache: VerifiedTokenCache<Principal> | undefined;
  private readonly algorithms: ReadonlySet<string>;

  constructor(options: AuthOptions) {
    this.options = resolveAuthOptions(options);
    const o = this.options;
    this.algorithms = new Set(o.algorithms);
    this.cache = o.cache.enabled
      ? new VerifiedTokenCache<Principal>(o.cache.maxEntries, o.cache.ttlSeconds * 1000)
      : undefined;
    this.keys = new SigningKeyStore({
      metadataUrls: o.metadataUrls,
      fetchPolicy: { timeoutMs: o.jwks.fetchTimeoutMs, allowInsecureHttp: o.allowInsecureHttp },
      refreshCooldownMs: o.jwks.refreshCooldownSeconds * 1000,
      maxAgeMs: o.jwks.maxAgeSeconds * 1000,
      clock: o.clock,
      onKeysChanged: () => this.cache?.flush(),
    });
  }

  /** Current time in milliseconds (the configured clock). */
  now(): number {
    return this.options.clock();
  }

  /** Fetches metadata and keys ahead of the first request. Never throws. */
  async warmUp(): Promise<void> {
    await this.keys.warmUp();
  }

  cacheStats(): CacheStats | undefined {
    return this.cache?.stats();
  }

  keyStats(): KeyStoreStats {
    return this.keys.stats();
  }

  flushCache(): void {
    this.cache?.flush();
  }

  /**
   * Resolves the principal of a valid token. Rejects with InvalidTokenError for
   * any bad token, or KeySourceUnavailableError when no signing keys could ever be loaded.
   */
  async validate(token: string): Promise<Principal> {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) {
      throw this.reject('malformed');
    }
    const now = this.options.clock();
    const cacheKey = this.cache ? VerifiedTokenCache.keyOf(token) : '';
    const hit = this.cache?.get(cacheKey, now);
    if (hit) return hit;

    let principal: Principal;
    let exp: number;
    try {
      const claims = await this.verify(token, now);
      exp = claims.exp as number;
      principal = principalFromClaims(claims);
      this.checkUserFlow(principal);
    } catch (err) {
      if (err instanceof KeySourceUnavailableError) throw err;
      throw this.reject(reasonOf(err));
    }
    this.cache?.set(cacheKey, principal, exp * 1000, now);
    return principal;
  }

  private async verify(token: string, now: number): Promise<Record<string, unknown>> {
    let header: ProtectedHeaderParameters;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new InvalidTokenError('malformed');
    }
    const alg = header.alg;
    if (typeof alg !== 'string' || !this.algorithms.has(alg)) {
      throw new InvalidTokenError('algorithm_not_allowed');
    }
    // No JWS extensions are understood (RFC 7515 §4.1.11), and b64=false is never a JWT.
    if (header.crit !== undefined || header.b64 !== undefined)
      throw new InvalidTokenError('malformed');
    if (typeof header.kid !== 'string' || header.kid.length === 0) {
      throw new InvalidTokenError('missing_kid');
    }
    const candidates =
      this.keys.cachedCandidates(header.kid, alg as JwsAlgorithm) ??
      (await this.keys.candidates(header.kid, alg as JwsAlgorithm));
    if (candidates.length === 0) throw new InvalidTokenError('unknown_kid');

    const firstDot = token.indexOf('.');
    const lastDot = token.lastIndexOf('.');
    const signingInput = Buffer.from(token.slice(0, lastDot), 'ascii');
    const signature = Buffer.from(token.slice(lastDot + 1), 'base64url');
    // Usually one candidate; several only if two documents publish different keys under one kid.
    const verified = candidates.find((c) =>
      signatureValid(alg as JwsAlgorithm, c.key, signingInput, signature),
    );
    if (!verified) throw new InvalidTokenError('signature');

    // The signature covers these exact payload bytes; jose validates the claims
    // set (exp/nbf/iss/aud, same code as jwtVerify) from them.
    const { payload } = UnsecuredJWT.decode(
      `${UNSECURED_HEADER}.${token.slice(firstDot + 1, lastDot)}.`,
      this.claimOptions(verified, now),
    );
    return payload as Record<string, unknown>;
  }

  private claimOptions(candidate: KeyCandidate, now: number): JWTClaimVerificationOptions {
    const o = this.options;
    // Issuers: configured ones, else those of the metadata documents that published this key.
    const issuer = !o.validateIssuer
      ? undefined
      : (o.issuers ?? (candidate.metadataIssuers as string[]));
    return {
      audience: o.audiences,
      issuer,
      clockTolerance: o.clockSkewSeconds,
      requiredClaims: REQUIRED_CLAIMS,
      currentDate: new Date(now),
    };
  }

  private checkUserFlow(principal: Principal): void {
    const allowed = this.options.allowedUserFlows;
    if (allowed.length === 0 || principal.kind !== 'user') return;
    if (!principal.userFlow || !allowed.includes(principal.userFlow)) {
      throw new InvalidTokenError('user_flow');
    }
  }

  private reject(reason: RejectionReason): InvalidTokenError {
    try {
      this.options.onRejected?.({ reason });
    } catch {
      // A failing log hook must not turn a 401 into a 500.
    }
    return new InvalidTokenError(reason);
  }
}
