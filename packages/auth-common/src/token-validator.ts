import {
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
  type JWTVerifyOptions,
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
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) return 'malformed';
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
  private readonly baseVerifyOptions: JWTVerifyOptions;

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
    this.baseVerifyOptions = {
      algorithms: o.algorithms,
      audience: o.audiences,
      clockTolerance: o.clockSkewSeconds,
      requiredClaims: ['exp'],
      ...(o.validateIssuer && o.issuers ? { issuer: o.issuers } : {}),
    };
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
    if (typeof header.kid !== 'string' || header.kid.length === 0) {
      throw new InvalidTokenError('missing_kid');
    }
    const candidates = await this.keys.candidates(header.kid, alg as JwsAlgorithm);
    if (candidates.length === 0) throw new InvalidTokenError('unknown_kid');

    let lastError: unknown;
    for (const candidate of candidates) {
      try {
        const { payload } = await jwtVerify(token, candidate.key, this.verifyOptions(candidate, now));
        return payload as Record<string, unknown>;
      } catch (err) {
        // Same kid, different key material (rare): try the next one.
        if (!(err instanceof joseErrors.JWSSignatureVerificationFailed)) throw err;
        lastError = err;
      }
    }
    throw lastError;
  }

  private verifyOptions(candidate: KeyCandidate, now: number): JWTVerifyOptions {
    const o = this.options;
    const options: JWTVerifyOptions = { ...this.baseVerifyOptions, currentDate: new Date(now) };
    if (o.validateIssuer && !o.issuers) {
      // Issuer of the metadata documents that published this key (per user flow / tenant).
      options.issuer = candidate.metadataIssuers as string[];
    }
    return options;
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
