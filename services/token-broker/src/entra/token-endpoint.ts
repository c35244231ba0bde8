import { BrokerError, parseRetryAfter, RetryableError } from '../broker/broker-error';

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * The longest lifetime a token is cached for: Entra's own maximum (configurable lifetimes and
 * CAE tokens stay within a day and a few hours). A larger `expires_in` is not believed: the
 * token would be served long after Entra stopped accepting it.
 */
export const MAX_TOKEN_LIFETIME_SECONDS = 86_400;

/**
 * The shortest `expires_in` believed. Entra's access tokens live 60–90 minutes by default and at
 * least 10 minutes under a token lifetime policy, so a shorter one is a broken answer. It is
 * retried like a 5xx rather than cached with a longer lifetime than Entra gave it (a token served
 * past its expiry) or handed out and never cached (each request would cost a Key Vault sign and
 * a token request, and callers a token that expires before they use it).
 */
export const MIN_TOKEN_LIFETIME_SECONDS = 300;

export interface RedeemedToken {
  accessToken: string;
  /** Lifetime in seconds, as Entra reported it. */
  expiresIn: number;
}

export type FetchLike = (
  url: string,
  init: {
    method: string;
    headers: Record<string, string>;
    body: string;
    signal?: AbortSignal;
    redirect?: 'manual';
  },
) => Promise<Response>;

/** `https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token` for an authority host. */
export function tokenEndpointFor(authorityHost: string, tenantId: string): string {
  return `${authorityHost.replace(/\/+$/, '')}/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`;
}

/** The AADSTS code of an Entra error body: `error_codes[0]`, else parsed from the description. */
export function aadstsOf(body: {
  error_codes?: unknown;
  error_description?: unknown;
}): string | undefined {
  // Bounded (AADSTS codes have up to 7 digits): the code becomes a metric label and reaches callers.
  const first: unknown = Array.isArray(body.error_codes) ? body.error_codes[0] : undefined;
  if (typeof first === 'number' && Number.isSafeInteger(first) && first > 0 && first < 1e8)
    return `AADSTS${first}`;
  const m =
    typeof body.error_description === 'string'
      ? /\bAADSTS(\d{1,8})\b/.exec(body.error_description)
      : null;
  return m ? `AADSTS${m[1]}` : undefined;
}

/**
 * Redeems a client assertion for an app-only token (client credentials). Node's fetch keeps
 * connections to Entra alive between calls. Entra's messages can echo request data, so only
 * the AADSTS code and the error name travel on.
 */
export async function redeemAssertion(
  o: { endpoint: string; clientId: string; scope: string; assertion: string; timeoutMs?: number },
  fetchImpl: FetchLike = fetch,
): Promise<RedeemedToken> {
  const body = new URLSearchParams({
    client_id: o.clientId,
    scope: o.scope,
    grant_type: 'client_credentials',
    client_assertion_type: JWT_BEARER,
    client_assertion: o.assertion,
  });
  let res: Response;
  try {
    res = await fetchImpl(o.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: body.toString(),
      signal: AbortSignal.timeout(o.timeoutMs ?? 10000),
      // fetch would repeat the POST, client assertion included, at a 307/308's Location (any origin).
      redirect: 'manual',
    });
  } catch {
    throw new RetryableError('Entra token endpoint unreachable', 'unavailable');
  }
  if (res.status >= 300 && res.status < 400)
    throw new BrokerError('upstream_rejected', `Entra token endpoint redirected (${res.status})`);
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  // A success needs the token and its lifetime (a number, or a numeric string as Entra v1 sent it,
  // of at least MIN_TOKEN_LIFETIME_SECONDS): anything else is a broken answer, retried like a 5xx
  // rather than cached with a guessed lifetime.
  const expiresIn = lifetimeOf(json.expires_in);
  if (
    res.ok &&
    typeof json.access_token === 'string' &&
    json.access_token.length > 0 &&
    expiresIn !== undefined
  )
    return { accessToken: json.access_token, expiresIn };
  const aadsts = aadstsOf(json);
  const retryAfter = parseRetryAfter(res.headers.get('retry-after'));
  if (res.status === 429)
    throw new RetryableError('Entra throttled the token request', 'throttled', retryAfter, aadsts);
  if (res.status >= 500 || res.ok)
    throw new RetryableError(
      `Entra token endpoint unavailable (${res.status})`,
      'unavailable',
      retryAfter,
      aadsts,
    );
  // The app registration has not reached this tenant's replicas yet: worth a few tries.
  if (aadsts === 'AADSTS700016')
    throw new RetryableError(
      'application not found in the tenant (yet)',
      'not_replicated',
      retryAfter,
      aadsts,
    );
  // An OAuth error code (RFC 6749 §5.2: invalid_client, ...); anything else is not passed on.
  const error =
    typeof json.error === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(json.error)
      ? json.error
      : 'invalid_request';
  throw new BrokerError('upstream_rejected', `Entra refused the token request: ${error}`, aadsts);
}

/** `expires_in` as whole seconds, at most MAX_TOKEN_LIFETIME_SECONDS; undefined unless a number of at least MIN_TOKEN_LIFETIME_SECONDS. */
function lifetimeOf(v: unknown): number | undefined {
  const n =
    typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,12}$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n) || n < MIN_TOKEN_LIFETIME_SECONDS) return undefined;
  return Math.min(Math.floor(n), MAX_TOKEN_LIFETIME_SECONDS);
}
