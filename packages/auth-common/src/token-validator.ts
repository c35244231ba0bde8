import {
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
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

const REQUIRED_CLAIMS = ['exp'];

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

    // jose checks the signature and the claims set (exp/nbf/iss/aud) in one call. Usually one
    // candidate; several only if two documents publish different keys under one kid.
    let lastError: unknown;
    for (const candidate of candidates) {
      try {
        const { payload } = await jwtVerify(token, candidate.key, {
          algorithms: [alg],
          ...this.claimOptions(candidate, now),
        });
        return payload as Record<string, unknown>;
      } catch (err) {
        lastError = err;
        if (!(err instanceof joseErrors.JWSSignatureVerificationFailed)) break;
      }
    }
    throw lastError;
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
