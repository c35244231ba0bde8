import {
  decodeJwt,
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
import type { ProviderRef, ResolvedProvider } from './identity-providers';
import { principalFromClaims, type Principal } from './principal';
import { SigningKeyStore, type KeyCandidate, type KeyStoreStats } from './signing-key-store';
import {
  InvalidTokenError,
  KeySourceUnavailableError,
  type RejectionReason,
  type TimeClaim,
} from './token-errors';
import { VerifiedTokenCache, type CacheStats } from './verified-token-cache';

// Larger than any Azure access token; bounds hashing and parsing work.
const MAX_TOKEN_LENGTH = 16 * 1024;
// Compact JWS: three base64url segments (the signature may be empty, e.g. alg "none").
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

const REQUIRED_CLAIMS = ['exp'];
const TIME_CLAIMS: readonly TimeClaim[] = ['exp', 'nbf', 'iat'];
const isTimeClaim = (claim: string): claim is TimeClaim =>
  (TIME_CLAIMS as readonly string[]).includes(claim);

interface Rejection {
  reason: RejectionReason;
  claim?: TimeClaim;
}

function rejectionOf(err: unknown): Rejection {
  if (err instanceof InvalidTokenError) return { reason: err.reason, claim: err.claim };
  if (err instanceof joseErrors.JWTClaimValidationFailed || err instanceof joseErrors.JWTExpired) {
    // jose checks the claims only once the signature holds, so the payload is the issuer's: a
    // time claim that is no NumericDate (a string, or 1e400 read as Infinity, which jose's
    // nbf/exp comparisons would call "not yet valid") is reported as what it is.
    const bad =
      err instanceof joseErrors.JWTExpired || isTimeClaim(err.claim)
        ? invalidTimeClaim(err.payload)
        : undefined;
    if (bad) return { reason: 'invalid_time_claim', claim: bad };
    if (err instanceof joseErrors.JWTExpired) return { reason: 'expired', claim: 'exp' };
    if (err.claim === 'nbf') return { reason: 'not_yet_valid', claim: 'nbf' };
    if (err.claim === 'iss') return { reason: 'issuer' };
    if (err.claim === 'aud') return { reason: 'audience' };
    return { reason: err.reason === 'missing' ? 'missing_claim' : 'invalid' };
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return { reason: 'signature' };
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return { reason: 'algorithm_not_allowed' };
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid)
    return { reason: 'malformed' };
  return { reason: 'invalid' };
}

/** The first of exp, nbf, iat that is present but not a whole, non-negative, safe second count. */
function invalidTimeClaim(claims: Record<string, unknown>): TimeClaim | undefined {
  return TIME_CLAIMS.find((claim) => {
    const value = claims[claim];
    return (
      value !== undefined &&
      (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    );
  });
}

/**
 * What jose leaves open on a token the trusted issuer signed: it checks exp and nbf against the
 * clock, but takes any JSON number (1e20, -5, 1.5, and 1e400, which JSON.parse makes Infinity)
 * and never looks at a future iat. Entra and B2C issue whole seconds and lifetimes of 5 min to
 * 24 h, so a time claim that is not a whole non-negative second count, an iat in the future, or
 * a lifetime (exp - (nbf ?? iat)) over the maximum is refused: a token like that is a leaked
 * signing key or a broken issuer, and would otherwise be a credential that never expires.
 */
function checkTimeClaims(
  claims: Record<string, unknown>,
  nowSeconds: number,
  skewSeconds: number,
  maxLifetimeSeconds: number,
): void {
  const bad = invalidTimeClaim(claims);
  if (bad) throw new InvalidTokenError('invalid_time_claim', bad);
  const exp = claims.exp as number;
  const nbf = claims.nbf as number | undefined;
  const iat = claims.iat as number | undefined;
  if (iat !== undefined && iat > nowSeconds + skewSeconds)
    throw new InvalidTokenError('issued_in_future', 'iat');
  // Without nbf and iat the lifetime cannot be known: bound what is left of it instead.
  const startClaim: TimeClaim | undefined =
    nbf !== undefined ? 'nbf' : iat !== undefined ? 'iat' : undefined;
  const start = nbf ?? iat ?? nowSeconds;
  if (exp - start > maxLifetimeSeconds)
    throw new InvalidTokenError('lifetime_too_long', startClaim);
}

/** One trusted provider with its own key source. */
interface ProviderRuntime {
  config: ResolvedProvider;
  keys: SigningKeyStore;
  /** undefined for the top-level (legacy) options. */
  ref: ProviderRef | undefined;
}

interface VerifiedToken {
  claims: Record<string, unknown>;
  provider: ProviderRuntime;
}

/** Where a claims challenge for this principal's provider sends the client. */
export interface ClaimsChallengeTarget {
  /** The tenant id (Microsoft: the realm names the tenant when authorization_uri does). */
  realm: string;
  authorizationUri: string | undefined;
}

/**
 * Framework-free validation of Azure AD B2C / Entra ID access tokens:
 * signature against the discovered JWKS, algorithm allow-list, issuer,
 * audience, exp/nbf with bounded skew, B2C user flow, tenant; then a typed principal.
 * With several providers, each token is checked only against the provider whose
 * keys signed it. Verified tokens are cached (see {@link VerifiedTokenCache}).
 */
export class TokenValidator {
  readonly options: ResolvedAuthOptions;
  private readonly providers: ProviderRuntime[];
  private readonly cache: VerifiedTokenCache<Principal> | undefined;
  private readonly algorithms: ReadonlySet<string>;

  constructor(options: AuthOptions) {
    this.options = resolveAuthOptions(options);
    const o = this.options;
    this.algorithms = new Set(o.algorithms);
    this.cache = o.cache.enabled
      ? new VerifiedTokenCache<Principal>(o.cache.maxEntries, o.cache.ttlSeconds * 1000)
      : undefined;
    this.providers = o.providers.map((config) => ({
      config,
      ref:
        config.kind === 'legacy'
          ? undefined
          : Object.freeze({ kind: config.kind, name: config.name }),
      keys: new SigningKeyStore({
        metadataUrls: config.metadataUrls,
        fetchPolicy: { timeoutMs: o.jwks.fetchTimeoutMs, allowInsecureHttp: o.allowInsecureHttp },
        refreshCooldownMs: o.jwks.refreshCooldownSeconds * 1000,
        maxAgeMs: o.jwks.maxAgeSeconds * 1000,
        clock: o.clock,
        onKeysChanged: () => this.cache?.flush(),
      }),
    }));
  }

  /** Current time in milliseconds (the configured clock). */
  now(): number {
    return this.options.clock();
  }

  /** Fetches metadata and keys ahead of the first request. Never throws. */
  async warmUp(): Promise<void> {
    await Promise.all(this.providers.map((p) => p.keys.warmUp()));
  }

  cacheStats(): CacheStats | undefined {
    return this.cache?.stats();
  }

  keyStats(): KeyStoreStats {
    const all = this.providers.map((p) => p.keys.stats());
    const times = all.flatMap((s) => (s.lastRefreshAt === undefined ? [] : [s.lastRefreshAt]));
    return {
      refreshes: all.reduce((n, s) => n + s.refreshes, 0),
      kids: [...new Set(all.flatMap((s) => s.kids))],
      lastRefreshAt: times.length ? Math.max(...times) : undefined,
    };
  }

  /**
   * Realm and authorize endpoint for a Microsoft claims challenge to this principal's
   * provider (Entra / External ID only; undefined otherwise).
   */
  claimsChallengeTarget(principal: Principal): ClaimsChallengeTarget | undefined {
    const name = principal.provider?.name;
    const runtime = this.providers.find((p) => p.ref !== undefined && p.ref.name === name);
    if (!runtime || runtime.config.kind === 'b2c') return undefined;
    const realm = runtime.config.tenantId ?? principal.tenantId;
    if (!realm) return undefined;
    return {
      realm,
      authorizationUri: runtime.config.authorizationUri ?? runtime.keys.authorizationEndpoint(),
    };
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
      throw this.reject({ reason: 'malformed' });
    }
    const now = this.options.clock();
    const cacheKey = this.cache ? VerifiedTokenCache.keyOf(token) : '';
    const hit = this.cache?.get(cacheKey, now);
    if (hit) return hit;

    let principal: Principal;
    let exp: number;
    try {
      const { claims, provider } = await this.verify(token, now);
      const o = this.options;
      checkTimeClaims(
        claims,
        Math.floor(now / 1000),
        o.clockSkewSeconds,
        o.maxTokenLifetimeSeconds,
      );
      exp = claims.exp as number;
      this.checkTenant(provider.config, claims);
      principal = principalFromClaims(claims, {
        provider: provider.ref,
        tenantId: provider.config.kind === 'b2c' ? provider.config.tenantId : undefined,
        legacyObjectIdClaim: provider.config.legacyObjectIdClaim,
      });
      this.checkUserFlow(provider.config, principal);
    } catch (err) {
      if (err instanceof KeySourceUnavailableError) throw err;
      throw this.reject(rejectionOf(err));
    }
    this.cache?.set(cacheKey, principal, exp * 1000, now);
    return principal;
  }

  private async verify(token: string, now: number): Promise<VerifiedToken> {
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
    const { providers, iss } = this.providersFor(token);
    // Metadata is loaded now: keep only keys of providers that publish the token's issuer, so
    // a provider asked while its metadata was unknown cannot end the search on a claim mismatch.
    const candidates = (await this.candidates(providers, header.kid, alg as JwsAlgorithm)).filter(
      ({ provider }) => iss === undefined || this.publishes(provider, iss) !== false,
    );
    if (candidates.length === 0) throw new InvalidTokenError('issuer');

    // jose checks the signature and the claims set (exp/nbf/iss/aud) in one call. Usually one
    // candidate; several only if two documents publish different keys under one kid.
    let lastError: unknown;
    for (const { provider, candidate } of candidates) {
      try {
        const { payload } = await jwtVerify(token, candidate.key, {
          algorithms: [alg],
          ...this.claimOptions(provider.config, candidate, now),
        });
        return { claims: payload as Record<string, unknown>, provider };
      } catch (err) {
        lastError = err;
        if (!(err instanceof joseErrors.JWSSignatureVerificationFailed)) break;
      }
    }
    throw lastError;
  }

  /**
   * With several providers, only those that may have issued the token's (unverified) `iss`
   * are asked for its key, so one provider's keys never meet another's issuer. The claim is
   * verified afterwards like any other.
   */
  /** Whether a provider publishes `iss`: undefined while its metadata is unknown. */
  private publishes(p: ProviderRuntime, iss: string): boolean | undefined {
    return (p.config.issuers ?? p.keys.knownIssuers())?.includes(iss);
  }

  private providersFor(token: string): { providers: ProviderRuntime[]; iss?: string } {
    if (this.providers.length === 1) return { providers: this.providers };
    let iss: unknown;
    try {
      iss = decodeJwt(token).iss;
    } catch {
      throw new InvalidTokenError('malformed');
    }
    if (typeof iss !== 'string') throw new InvalidTokenError('issuer');
    const issuersOf = (p: ProviderRuntime) => p.config.issuers ?? p.keys.knownIssuers();
    // In the configured order: those that publish it, and those not loaded yet that come before
    // the first that does (they may publish it too). Which metadata happened to load first must
    // never decide which provider a token is validated as (two providers can publish one issuer,
    // e.g. local stand-ins), and a provider that is down never delays tokens of an earlier one.
    const possible: ProviderRuntime[] = [];
    for (const p of this.providers) {
      const known = issuersOf(p);
      if (known?.includes(iss)) {
        possible.push(p);
      } else if (known === undefined && !possible.some((q) => issuersOf(q)?.includes(iss))) {
        possible.push(p);
      }
    }
    if (possible.length === 0) throw new InvalidTokenError('issuer');
    return { providers: possible, iss };
  }

  private async candidates(
    providers: ProviderRuntime[],
    kid: string,
    alg: JwsAlgorithm,
  ): Promise<Array<{ provider: ProviderRuntime; candidate: KeyCandidate }>> {
    const out: Array<{ provider: ProviderRuntime; candidate: KeyCandidate }> = [];
    let unavailable: KeySourceUnavailableError | undefined;
    for (const provider of providers) {
      try {
        const found =
          provider.keys.cachedCandidates(kid, alg) ?? (await provider.keys.candidates(kid, alg));
        for (const candidate of found) out.push({ provider, candidate });
      } catch (err) {
        if (!(err instanceof KeySourceUnavailableError)) throw err;
        unavailable = err;
      }
    }
    if (out.length === 0) throw unavailable ?? new InvalidTokenError('unknown_kid');
    return out;
  }

  private claimOptions(
    provider: ResolvedProvider,
    candidate: KeyCandidate,
    now: number,
  ): JWTClaimVerificationOptions {
    // Issuers: configured ones, else those of the metadata documents that published this key.
    const issuer = !provider.validateIssuer
      ? undefined
      : (provider.issuers ?? (candidate.metadataIssuers as string[]));
    const o = this.options;
    return {
      audience: provider.audiences,
      issuer,
      clockTolerance: o.clockSkewSeconds,
      requiredClaims: REQUIRED_CLAIMS,
      currentDate: new Date(now),
    };
  }

  /** Entra / External ID keys are shared by all tenants: the tenant is the token's `tid`. */
  private checkTenant(provider: ResolvedProvider, claims: Record<string, unknown>): void {
    if (provider.kind === 'legacy' || provider.kind === 'b2c' || !provider.tenantId) return;
    const tid = typeof claims.tid === 'string' ? claims.tid.toLowerCase() : undefined;
    if (tid !== provider.tenantId) throw new InvalidTokenError('tenant');
  }

  private checkUserFlow(provider: ResolvedProvider, principal: Principal): void {
    const allowed = provider.allowedUserFlows;
    if (allowed.length === 0 || principal.kind !== 'user') return;
    if (!principal.userFlow || !allowed.includes(principal.userFlow)) {
      throw new InvalidTokenError('user_flow');
    }
  }

  private reject({ reason, claim }: Rejection): InvalidTokenError {
    try {
      this.options.onRejected?.(claim ? { reason, claim } : { reason });
    } catch {
      // A failing log hook must not turn a 401 into a 500.
    }
    return new InvalidTokenError(reason, claim);
  }
}
