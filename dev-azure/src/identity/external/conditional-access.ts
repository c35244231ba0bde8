// Conditional Access in an external tenant, as far as tokens see it: the
// claims request parameter (authentication contexts asked for as `acrs`,
// client capabilities as `xms_cc`), which sign-ins must do a second factor,
// and which contexts a sign-in satisfies.
import type { TenantConfig } from '../../config/schema';
import type { ResolvedApp } from '../directory';
import { OAuthError } from '../errors';

export interface ClaimsRequest {
  /** Authentication context ids asked for in access_token.acrs (value or values). */
  acrs: string[];
  /** Client capabilities in access_token.xms_cc (e.g. cp1). */
  clientCapabilities: string[];
}

const MAX_CLAIMS = 4096;

function invalidClaims(): OAuthError {
  return new OAuthError(
    400,
    'invalid_request',
    'AADSTS90005',
    "Invalid request. The 'claims' parameter is not valid JSON or does not follow the claims request syntax.",
  );
}

function stringValues(member: unknown): string[] {
  if (member === null || typeof member !== 'object' || Array.isArray(member)) return [];
  const m = member as { value?: unknown; values?: unknown };
  const list = [m.value, ...(Array.isArray(m.values) ? m.values : [])];
  return list.filter((v): v is string => typeof v === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(v));
}

/** Parses the OpenID Connect `claims` parameter; only access_token.acrs and access_token.xms_cc mean anything here. */
export function parseClaimsRequest(raw: string | undefined): ClaimsRequest {
  if (raw === undefined) return { acrs: [], clientCapabilities: [] };
  if (raw.length > MAX_CLAIMS) throw invalidClaims();
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalidClaims();
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalidClaims();
  const access = (parsed as Record<string, unknown>).access_token;
  if (access === undefined || access === null) return { acrs: [], clientCapabilities: [] };
  if (typeof access !== 'object' || Array.isArray(access)) throw invalidClaims();
  const at = access as Record<string, unknown>;
  return {
    acrs: [...new Set(stringValues(at.acrs))],
    clientCapabilities: [...new Set(stringValues(at.xms_cc))],
  };
}

/** Whether a policy demands a second factor for this client, resource and requested contexts. */
export function mfaRequired(
  tenant: TenantConfig,
  o: { client: ResolvedApp; resourceClientId?: string; acrs: string[] },
): boolean {
  const resourceName = tenant.apps.find(
    (a) => a.clientId.toLowerCase() === o.resourceClientId?.toLowerCase(),
  )?.name;
  return tenant.conditionalAccessPolicies.some((p) =>
    p.authenticationContext !== undefined
      ? o.acrs.includes(p.authenticationContext)
      : (p.apps ?? []).some((name) => name === o.client.config.name || name === resourceName),
  );
}

/** Requested contexts the sign-in meets: defined in the tenant, and its second factor done when a policy asks for one. */
export function satisfiedContexts(
  tenant: TenantConfig,
  requested: string[],
  mfaDone: boolean,
): string[] {
  return requested.filter((id) => {
    if (!tenant.authenticationContexts.some((c) => c.id === id)) return false;
    const needsMfa = tenant.conditionalAccessPolicies.some((p) => p.authenticationContext === id);
    return !needsMfa || mfaDone;
  });
}
