import { z } from 'zod';
import { userFlowFromMetadataUrl } from './azure-ad-config';
import {
  providerSchema,
  resolveProviders,
  type IdentityProviderOptions,
  type ResolvedProvider,
} from './identity-providers';
import type { RejectionReason, TimeClaim } from './token-errors';

export const SUPPORTED_ALGORITHMS = ['RS256', 'PS256', 'ES256'] as const;
export type JwsAlgorithm = (typeof SUPPORTED_ALGORITHMS)[number];

export const MAX_CLOCK_SKEW_SECONDS = 300;

/** Entra ID and B2C access tokens live 5 minutes to 24 hours (B2C's configurable maximum). */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 86_400;
export const MIN_MAX_TOKEN_LIFETIME_SECONDS = 300;
export const MAX_MAX_TOKEN_LIFETIME_SECONDS = 7 * 86_400;

export interface StepUpOptions {
  /** B2C: allowed user flows / acr values (compared case-insensitively). */
  userFlows?: string[];
  /** Entra / External ID: authentication context (`acrs`) required, e.g. `c1`. */
  authContext?: string;
  /** Maximum age of `auth_time`, in seconds. */
  maxAgeSeconds?: number;
}

export interface VerifiedTokenCacheOptions {
  /** Default true. */
  enabled?: boolean;
  /** LRU bound; default 10 000. */
  maxEntries?: number;
  /** Upper bound on an entry's life (it never outlives the token's `exp`); default 300. */
  ttlSeconds?: number;
}

export interface JwksOptions {
  /** Minimum interval between refetches caused by an unknown `kid`; default 30. */
  refreshCooldownSeconds?: number;
  /** Keys older than this are refreshed in the background; default 3600. */
  maxAgeSeconds?: number;
  /** Timeout for one metadata / JWKS request; default 5000. */
  fetchTimeoutMs?: number;
}

export interface RejectionEvent {
  reason: RejectionReason;
  /** The time claim at fault, for the time-claim reasons. */
  claim?: TimeClaim;
}

/** Options of {@link TokenValidator}; names follow passport-azure-ad where one exists. */
export interface AuthOptions {
  /**
   * One OpenID metadata URL per B2C user flow / Entra tenant, all validated as one provider.
   * Exactly one of `identityMetadata` and `providers` is given.
   */
  identityMetadata?: string | string[];
  /**
   * The identity providers trusted side by side (e.g. B2C and External ID during a migration);
   * each token is checked against its own provider's keys, issuers, audiences and tenant.
   */
  providers?: IdentityProviderOptions[];
  /** This API's application (client) id; accepted as an audience. */
  clientID?: string;
  /** Accepted audiences, e.g. `api://policy-api` (the clientID is accepted too). */
  audience?: string | string[];
  /** Accepted issuers; default: the `issuer` of each metadata document. */
  issuer?: string | string[];
  /** Default true. false skips the issuer check (multi-tenant apps only). */
  validateIssuer?: boolean;
  /** B2C: user-flow restriction applies (see policyName). */
  isB2C?: boolean;
  /** B2C user flows whose tokens are accepted; default (isB2C): the flows of the metadata URLs. */
  policyName?: string | string[];
  /** Subset of RS256, PS256, ES256; default all three. */
  allowedAlgorithms?: JwsAlgorithm[];
  /** Tolerance for exp/nbf/iat; default 60, at most 300. */
  clockSkewSeconds?: number;
  /**
   * Longest accepted token lifetime, exp - (nbf ?? iat), in seconds; default 86 400 (24 h, the
   * longest Entra ID / B2C access token), 300 … 604 800.
   */
  maxTokenLifetimeSeconds?: number;
  /** Permit `http:` metadata / JWKS URLs (local tests only). */
  allowInsecureHttp?: boolean;
  /** realm of the WWW-Authenticate challenge; default `api`. */
  realm?: string;
  jwks?: JwksOptions;
  cache?: VerifiedTokenCacheOptions;
  /** Defaults for `@RequireStepUp()` (e.g. from env). */
  stepUp?: StepUpOptions;
  /** Milliseconds since the epoch; tests inject a clock. */
  clock?: () => number;
  /** Called with the internal reason of every rejection (never the token); for logs/metrics. */
  onRejected?: (event: RejectionEvent) => void;
}

export interface ResolvedAuthOptions {
  /** Every trusted provider; the top-level options make one provider of kind `legacy`. */
  providers: ResolvedProvider[];
  metadataUrls: string[];
  audiences: string[];
  issuers: string[] | undefined;
  validateIssuer: boolean;
  isB2C: boolean;
  allowedUserFlows: string[];
  algorithms: JwsAlgorithm[];
  clockSkewSeconds: number;
  maxTokenLifetimeSeconds: number;
  allowInsecureHttp: boolean;
  realm: string;
  jwks: Required<JwksOptions>;
  cache: Required<VerifiedTokenCacheOptions>;
  stepUp: {
    userFlows: string[] | undefined;
    authContext: string | undefined;
    maxAgeSeconds: number | undefined;
  };
  clock: () => number;
  onRejected: ((event: RejectionEvent) => void) | undefined;
}

export class AuthConfigError extends Error {
  override name = 'AuthConfigError';
}

const stringOrList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
/** Conditional Access authentication context ids are c1 … c99. */
export const AUTH_CONTEXT_PATTERN = /^c[1-9][0-9]?$/i;
const fn = <T>() => z.custom<T>((v) => typeof v === 'function', { message: 'must be a function' });

const optionsSchema = z
  .object({
    identityMetadata: stringOrList.optional(),
    providers: z.array(providerSchema).min(1).optional(),
    clientID: z.string().min(1).optional(),
    audience: stringOrList.optional(),
    issuer: stringOrList.optional(),
    validateIssuer: z.boolean().optional(),
    isB2C: z.boolean().optional(),
    policyName: stringOrList.optional(),
    allowedAlgorithms: z.array(z.enum(SUPPORTED_ALGORITHMS)).min(1).optional(),
    clockSkewSeconds: z.number().int().min(0).max(MAX_CLOCK_SKEW_SECONDS).optional(),
    maxTokenLifetimeSeconds: z
      .number()
      .int()
      .min(MIN_MAX_TOKEN_LIFETIME_SECONDS)
      .max(MAX_MAX_TOKEN_LIFETIME_SECONDS)
      .optional(),
    allowInsecureHttp: z.boolean().optional(),
    realm: z
      .string()
      .min(1)
      .regex(/^[\x20-\x7e]+$/, 'printable ASCII only')
      .optional(),
    jwks: z
      .object({
        refreshCooldownSeconds: z.number().min(1).max(86_400).optional(),
        maxAgeSeconds: z
          .number()
          .min(60)
          .max(7 * 86_400)
          .optional(),
        fetchTimeoutMs: z.number().int().min(100).max(60_000).optional(),
      })
      .strict()
      .optional(),
    cache: z
      .object({
        enabled: z.boolean().optional(),
        maxEntries: z.number().int().min(1).max(1_000_000).optional(),
        ttlSeconds: z.number().min(1).max(3600).optional(),
      })
      .strict()
      .optional(),
    stepUp: z
      .object({
        userFlows: z.array(z.string().min(1)).min(1).optional(),
        authContext: z.string().regex(AUTH_CONTEXT_PATTERN, 'must be c1 … c99').optional(),
        maxAgeSeconds: z.number().int().min(0).optional(),
      })
      .strict()
      .optional(),
    clock: fn<() => number>().optional(),
    onRejected: fn<(event: RejectionEvent) => void>().optional(),
    // AuthModule's own option, validated here so one schema covers both.
    globalGuards: z.boolean().optional(),
  })
  // Unknown keys are refused: a misspelt option must not silently weaken validation.
  .strict();

const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? [...v] : [v];

const unique = (values: string[]): string[] => [...new Set(values)];

function checkUrl(url: string, allowInsecureHttp: boolean): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AuthConfigError(`identityMetadata is not a URL: ${url}`);
  }
  if (parsed.protocol === 'https:') return parsed.toString();
  if (parsed.protocol === 'http:' && allowInsecureHttp) return parsed.toString();
  throw new AuthConfigError(
    `identityMetadata must use https (set allowInsecureHttp only for local tests): ${url}`,
  );
}

/** Validates and normalises options; throws {@link AuthConfigError} on a bad config. */
export function resolveAuthOptions(input: AuthOptions): ResolvedAuthOptions {
  const parsed = optionsSchema.safeParse(input);
  if (!parsed.success) {
    const detail = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new AuthConfigError(`invalid auth options: ${detail}`);
  }
  const o = parsed.data;
  const fail = (message: string): never => {
    throw new AuthConfigError(`invalid auth options: ${message}`);
  };
  const allowInsecureHttp = o.allowInsecureHttp ?? false;
  const audiences = unique([...list(o.audience), ...(o.clientID ? [o.clientID] : [])]);
  let providers: ResolvedProvider[];
  if (o.providers) {
    if (o.identityMetadata !== undefined) fail('give identityMetadata or providers, not both');
    for (const legacyOnly of ['issuer', 'validateIssuer', 'isB2C', 'policyName'] as const) {
      if (o[legacyOnly] !== undefined)
        fail(`${legacyOnly} belongs in each provider, not beside providers`);
    }
    providers = resolveProviders(o.providers, {
      defaultAudiences: audiences,
      checkUrl: (u) => checkUrl(u, allowInsecureHttp),
      fail,
    });
  } else {
    if (o.identityMetadata === undefined) fail('identityMetadata or providers is required');
    if (audiences.length === 0) fail('audience or clientID is required');
    providers = [legacyProvider(o, audiences, allowInsecureHttp)];
  }
  const legacy =
    providers.length === 1 && providers[0]?.kind === 'legacy' ? providers[0] : undefined;

  return {
    providers,
    metadataUrls: unique(providers.flatMap((p) => p.metadataUrls)),
    audiences: unique(providers.flatMap((p) => p.audiences)),
    issuers: legacy?.issuers,
    validateIssuer: legacy?.validateIssuer ?? true,
    isB2C: o.isB2C ?? false,
    allowedUserFlows: unique(providers.flatMap((p) => p.allowedUserFlows)),
    algorithms: unique(o.allowedAlgorithms ?? [...SUPPORTED_ALGORITHMS]) as JwsAlgorithm[],
    clockSkewSeconds: o.clockSkewSeconds ?? 60,
    maxTokenLifetimeSeconds: o.maxTokenLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
    allowInsecureHttp,
    realm: o.realm ?? 'api',
    jwks: {
      refreshCooldownSeconds: o.jwks?.refreshCooldownSeconds ?? 30,
      maxAgeSeconds: o.jwks?.maxAgeSeconds ?? 3600,
      fetchTimeoutMs: o.jwks?.fetchTimeoutMs ?? 5000,
    },
    cache: {
      enabled: o.cache?.enabled ?? true,
      maxEntries: o.cache?.maxEntries ?? 10_000,
      ttlSeconds: o.cache?.ttlSeconds ?? 300,
    },
    stepUp: {
      userFlows: o.stepUp?.userFlows?.map((f) => f.toLowerCase()),
      authContext: o.stepUp?.authContext?.toLowerCase(),
      maxAgeSeconds: o.stepUp?.maxAgeSeconds,
    },
    clock: o.clock ?? Date.now,
    onRejected: o.onRejected,
  };
}

/** The top-level options as one provider: exactly the behaviour before providers existed. */
function legacyProvider(
  o: z.infer<typeof optionsSchema>,
  audiences: string[],
  allowInsecureHttp: boolean,
): ResolvedProvider {
  const metadataUrls = unique(list(o.identityMetadata).map((u) => checkUrl(u, allowInsecureHttp)));
  const isB2C = o.isB2C ?? false;
  const explicitFlows = list(o.policyName).map((f) => f.toLowerCase());
  const derivedFlows = isB2C
    ? metadataUrls.map(userFlowFromMetadataUrl).filter((f): f is string => f !== undefined)
    : [];
  return {
    kind: 'legacy',
    name: 'default',
    metadataUrls,
    audiences,
    issuers: o.issuer === undefined ? undefined : unique(list(o.issuer)),
    validateIssuer: o.validateIssuer ?? true,
    allowedUserFlows: unique(explicitFlows.length > 0 ? explicitFlows : derivedFlows),
    tenantId: undefined,
    authorizationUri: undefined,
    legacyObjectIdClaim: undefined,
  };
}
