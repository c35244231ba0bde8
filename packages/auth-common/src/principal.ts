import type { ProviderRef } from './identity-providers';
import { InvalidTokenError } from './token-errors';

/** Verified claims of an access token. */
export type JwtClaims = Readonly<Record<string, unknown>>;

/** A person calling with a delegated token (B2C or Entra `scp`). */
export interface UserPrincipal {
  readonly kind: 'user';
  readonly oid: string;
  readonly sub: string;
  readonly name?: string;
  readonly emails: readonly string[];
  readonly givenName?: string;
  readonly familyName?: string;
  /** B2C user flow (`tfp`, else `acr`), lower-cased. */
  readonly userFlow?: string;
  /** `auth_time`, seconds since the epoch. */
  readonly authTime?: number;
  readonly scopes: readonly string[];
  readonly tenantId?: string;
  /** The provider that issued the token (absent with the top-level `identityMetadata` options). */
  readonly provider?: ProviderRef;
  /** Entra / External ID authentication contexts satisfied (`acrs`), lower-cased; absent when not in the token. */
  readonly authContexts?: readonly string[];
  /** Client capabilities (`xms_cc`, e.g. `cp1`), lower-cased; absent when not in the token. */
  readonly clientCapabilities?: readonly string[];
  /**
   * The former B2C object id of a migrated user, from the provider's `legacyObjectIdClaim`.
   * Only a claim: linking it to stored data is the caller's decision.
   */
  readonly legacyObjectId?: string;
  readonly claims: JwtClaims;
}

/** A daemon calling with an app-only token (client credentials, app roles). */
export interface AppPrincipal {
  readonly kind: 'app';
  /** `azp` (v2) or `appid` (v1). */
  readonly appId: string;
  readonly roles: readonly string[];
  readonly tenantId?: string;
  readonly oid?: string;
  readonly provider?: ProviderRef;
  readonly claims: JwtClaims;
}

/** What the validator knows about the token's source, beyond its claims. */
export interface PrincipalContext {
  provider?: ProviderRef;
  /** Used when the token has no `tid` (B2C). */
  tenantId?: string;
  legacyObjectIdClaim?: string;
}

export type Principal = UserPrincipal | AppPrincipal;

const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v.length > 0 ? v : undefined;

const strList = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x.length > 0) : [];

/** A multi-valued claim (JSON array, or one space-separated string), lower-cased; undefined if absent. */
const lowerList = (v: unknown): readonly string[] | undefined => {
  if (v === undefined) return undefined;
  const values = typeof v === 'string' ? v.split(' ').filter(Boolean) : strList(v);
  return Object.freeze(values.map((x) => x.toLowerCase()));
};

// Object ids are GUIDs; anything longer or with odd characters is not an id worth passing on.
const LEGACY_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/** App-only: Entra's `idtyp=app`, or no `scp` but `roles`. */
export function isAppOnlyToken(claims: JwtClaims): boolean {
  if (claims.idtyp === 'app') return true;
  if (claims.idtyp === 'user') return false;
  return claims.scp === undefined && Array.isArray(claims.roles);
}

function freezeClaims(claims: Record<string, unknown>): JwtClaims {
  for (const value of Object.values(claims)) {
    if (value !== null && typeof value === 'object') Object.freeze(value);
  }
  return Object.freeze(claims);
}

/** Builds the principal from verified claims; throws InvalidTokenError when required ids are absent. */
export function principalFromClaims(
  raw: Record<string, unknown>,
  context: PrincipalContext = {},
): Principal {
  const claims = freezeClaims(raw);
  const tenantId = str(claims.tid) ?? context.tenantId;
  const provider = context.provider ? { provider: context.provider } : {};

  // Entra's app-only tokens never carry scp, delegated ones always name their scopes there: a
  // token that says idtyp=app and has scp is neither, and must not get an app's roles.
  if (claims.idtyp === 'app' && claims.scp !== undefined) throw new InvalidTokenError('invalid');
  if (isAppOnlyToken(claims)) {
    const appId = str(claims.azp) ?? str(claims.appid);
    if (!appId) throw new InvalidTokenError('missing_claim');
    return Object.freeze({
      kind: 'app' as const,
      appId,
      roles: Object.freeze(strList(claims.roles)),
      tenantId,
      oid: str(claims.oid),
      ...provider,
      claims,
    });
  }

  const oid = str(claims.oid) ?? str(claims.sub);
  const sub = str(claims.sub) ?? oid;
  if (!oid || !sub) throw new InvalidTokenError('missing_claim');

  const emails = strList(claims.emails);
  const email = str(claims.email);
  if (email && !emails.includes(email)) emails.push(email);

  const flow = str(claims.tfp) ?? str(claims.acr);
  const authTime =
    typeof claims.auth_time === 'number' && Number.isFinite(claims.auth_time)
      ? claims.auth_time
      : undefined;
  const scp = str(claims.scp);
  const authContexts = lowerList(claims.acrs);
  const capabilities = lowerList(claims.xms_cc);
  const legacy = context.legacyObjectIdClaim ? str(claims[context.legacyObjectIdClaim]) : undefined;

  return Object.freeze({
    kind: 'user' as const,
    oid,
    sub,
    name: str(claims.name),
    emails: Object.freeze(emails),
    givenName: str(claims.given_name),
    familyName: str(claims.family_name),
    userFlow: flow?.toLowerCase(),
    authTime,
    scopes: Object.freeze(scp ? scp.split(' ').filter(Boolean) : []),
    tenantId,
    ...provider,
    ...(authContexts ? { authContexts } : {}),
    ...(capabilities ? { clientCapabilities: capabilities } : {}),
    ...(legacy && LEGACY_ID.test(legacy) ? { legacyObjectId: legacy } : {}),
    claims,
  });
}
