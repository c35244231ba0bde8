// Builders for Azure AD B2C / Entra ID / External ID OpenID metadata URLs and issuers, so
// services configure tenants and user flows instead of hand-written URLs.

export interface B2cMetadataParams {
  /** Tenant name without or with the `.onmicrosoft.com` suffix (e.g. `contoso`). */
  tenantName: string;
  /** User flow or custom policy, e.g. `B2C_1_signupsignin`. Lower-cased like MSAL does. */
  userFlow: string;
  /** Login host incl. optional port; default `{tenantName}.b2clogin.com`. */
  host?: string;
  /** `https` unless a local test stand-in is plain http. */
  scheme?: 'https' | 'http';
}

export interface EntraMetadataParams {
  /** Tenant id (GUID) or verified domain. */
  tenantId: string;
  /** Login host incl. optional port; default `login.microsoftonline.com`. */
  host?: string;
  scheme?: 'https' | 'http';
}

export interface IssuerParams {
  tenantId: string;
  host: string;
  scheme?: 'https' | 'http';
}

function segment(value: string, what: string): string {
  const trimmed = value.trim();
  if (!trimmed || /[/?#\s]/.test(trimmed)) {
    throw new TypeError(`${what} must be a single non-empty path segment`);
  }
  return encodeURIComponent(trimmed);
}

function hostPart(host: string): string {
  const trimmed = host.trim();
  if (!trimmed || /[/?#@\s]/.test(trimmed)) throw new TypeError('host must be a bare host[:port]');
  return trimmed;
}

function tenantDomain(tenantName: string): string {
  const name = tenantName.trim();
  return name.toLowerCase().endsWith('.onmicrosoft.com') ? name : `${name}.onmicrosoft.com`;
}

function tenantShortName(tenantName: string): string {
  return tenantDomain(tenantName).slice(0, -'.onmicrosoft.com'.length);
}

/** `https://{host}/{tenant}.onmicrosoft.com/{flow}/v2.0/.well-known/openid-configuration` */
export function b2cMetadataUrl(p: B2cMetadataParams): string {
  const host = hostPart(p.host ?? `${tenantShortName(p.tenantName)}.b2clogin.com`);
  const tenant = segment(tenantDomain(p.tenantName), 'tenantName');
  const flow = segment(p.userFlow.toLowerCase(), 'userFlow');
  return `${p.scheme ?? 'https'}://${host}/${tenant}/${flow}/v2.0/.well-known/openid-configuration`;
}

/** `https://{host}/{tenantId}/v2.0/.well-known/openid-configuration` */
export function entraMetadataUrl(p: EntraMetadataParams): string {
  const host = hostPart(p.host ?? 'login.microsoftonline.com');
  return `${p.scheme ?? 'https'}://${host}/${segment(p.tenantId, 'tenantId')}/v2.0/.well-known/openid-configuration`;
}

/** B2C access-token issuer: `https://{host}/{tenantId}/v2.0/` (note the trailing slash). */
export function b2cIssuer(p: IssuerParams): string {
  return `${p.scheme ?? 'https'}://${hostPart(p.host)}/${segment(p.tenantId, 'tenantId')}/v2.0/`;
}

/** Entra ID v2 access-token issuer: `https://{host}/{tenantId}/v2.0`. */
export function entraIssuer(p: Omit<IssuerParams, 'host'> & { host?: string }): string {
  const host = hostPart(p.host ?? 'login.microsoftonline.com');
  return `${p.scheme ?? 'https'}://${host}/${segment(p.tenantId, 'tenantId')}/v2.0`;
}

/** Entra ID v1 access-token issuer: `https://sts.windows.net/{tenantId}/`. */
export function entraV1Issuer(tenantId: string): string {
  return `https://sts.windows.net/${segment(tenantId, 'tenantId')}/`;
}

export interface ExternalIdMetadataParams {
  /** Tenant subdomain, e.g. `contoso` for `contoso.ciamlogin.com` (the authority MSAL uses). */
  subdomain: string;
  /** Tenant id (GUID), or the `{subdomain}.onmicrosoft.com` domain, as the path segment. */
  tenantId: string;
  /** Login host incl. optional port; default `{subdomain}.ciamlogin.com`. */
  host?: string;
  scheme?: 'https' | 'http';
}

/**
 * External ID (external tenant) metadata:
 * `https://{subdomain}.ciamlogin.com/{tenantId}/v2.0/.well-known/openid-configuration`.
 * There is no user flow in the URL: flows are attached to the application.
 */
export function externalIdMetadataUrl(p: ExternalIdMetadataParams): string {
  const host = hostPart(
    p.host ?? `${segment(p.subdomain, 'subdomain').toLowerCase()}.ciamlogin.com`,
  );
  return `${p.scheme ?? 'https'}://${host}/${segment(p.tenantId, 'tenantId')}/v2.0/.well-known/openid-configuration`;
}

/**
 * External ID access-token issuer: `https://{tenantId}.ciamlogin.com/{tenantId}/v2.0`. The host
 * is the tenant *id*, not the subdomain the endpoints use, and there is no trailing slash.
 */
export function externalIdIssuer(p: { tenantId: string }): string {
  const tid = segment(p.tenantId, 'tenantId').toLowerCase();
  return `https://${tid}.ciamlogin.com/${tid}/v2.0`;
}

/**
 * The user flow a B2C metadata URL belongs to (path segment before `/v2.0/`
 * or the legacy `?p=` parameter), lower-cased; undefined for Entra URLs.
 */
export function userFlowFromMetadataUrl(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const p = parsed.searchParams.get('p');
  if (p) return p.toLowerCase();
  const parts = parsed.pathname.split('/').filter(Boolean);
  const v2 = parts.indexOf('v2.0');
  if (v2 >= 2 && parts[v2 - 2]?.toLowerCase().endsWith('.onmicrosoft.com')) {
    return decodeURIComponent(parts[v2 - 1] ?? '').toLowerCase() || undefined;
  }
  return undefined;
}

export const AzureAdConfig = {
  b2cMetadataUrl,
  entraMetadataUrl,
  b2cIssuer,
  entraIssuer,
  entraV1Issuer,
  externalIdMetadataUrl,
  externalIdIssuer,
  userFlowFromMetadataUrl,
} as const;
