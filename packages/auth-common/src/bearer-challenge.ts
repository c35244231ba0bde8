// RFC 6750 / RFC 9470 error responses, and Microsoft's claims challenge, independent of any
// web framework.

export type BearerErrorCode =
  'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'insufficient_user_authentication';

/**
 * Microsoft identity platform claims challenge (`error="insufficient_claims"`), sent as its
 * own `WWW-Authenticate` challenge before the RFC 9470 one.
 */
export interface ClaimsChallenge {
  /** Tenant id: the realm names the tenant whose authorize endpoint is given. */
  realm: string;
  authorizationUri?: string;
  /** Base64 (standard alphabet, padded, as Microsoft sends it) of the minified claims request. */
  claims: string;
}

export interface BearerChallenge {
  status: 400 | 401 | 403;
  /** Absent when the request carried no credentials (RFC 6750 §3.1). */
  error?: BearerErrorCode;
  description: string;
  /** insufficient_scope: the scopes that would do. */
  scope?: readonly string[];
  /** insufficient_user_authentication (RFC 9470). */
  acrValues?: readonly string[];
  maxAge?: number;
  /** Entra / External ID step-up: the claims challenge sent alongside. */
  claimsChallenge?: ClaimsChallenge;
}

export interface BearerErrorBody {
  error: string;
  error_description: string;
}

// Header values must be visible ASCII (RFC 6750 §3 allows no more in error_description): a
// character outside it (a typographic apostrophe in a message, a non-ASCII authorize URL in
// metadata) makes Node refuse the header, and the response is never sent.
const quote = (value: string): string =>
  `"${value.replace(/[^\x20-\x7e]/g, '?').replace(/[\\"]/g, '\\$&')}"`;

/** The `WWW-Authenticate` value. realm is sent only with the bare challenge (no error). */
export function formatWwwAuthenticate(challenge: BearerChallenge, realm: string): string {
  if (!challenge.error) return `Bearer realm=${quote(realm)}`;
  const params = [
    `error=${quote(challenge.error)}`,
    `error_description=${quote(challenge.description)}`,
  ];
  if (challenge.scope?.length) params.push(`scope=${quote(challenge.scope.join(' '))}`);
  if (challenge.acrValues?.length)
    params.push(`acr_values=${quote(challenge.acrValues.join(' '))}`);
  if (challenge.maxAge !== undefined) params.push(`max_age=${Math.trunc(challenge.maxAge)}`);
  return `Bearer ${params.join(', ')}`;
}

/**
 * Every `WWW-Authenticate` field value to send, one challenge each: the Microsoft claims
 * challenge first (clients that read the first Bearer challenge find it), then RFC 6750/9470.
 */
export function wwwAuthenticateValues(challenge: BearerChallenge, realm: string): string[] {
  const rfc = formatWwwAuthenticate(challenge, realm);
  const c = challenge.claimsChallenge;
  if (!c) return [rfc];
  const params = [`realm=${quote(c.realm)}`];
  if (c.authorizationUri) params.push(`authorization_uri=${quote(c.authorizationUri)}`);
  params.push(`error="insufficient_claims"`, `claims=${quote(c.claims)}`);
  return [`Bearer ${params.join(', ')}`, rfc];
}

/**
 * The `claims` value asking for an access token with authentication context `authContext`:
 * base64 of `{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`. Standard alphabet with
 * padding, like Microsoft's own challenges (Convert.ToBase64String; their example ends in `==`).
 */
export function authContextClaimsRequest(authContext: string): string {
  const request = { access_token: { acrs: { essential: true, value: authContext } } };
  return Buffer.from(JSON.stringify(request), 'utf8').toString('base64');
}

export function bearerErrorBody(challenge: BearerChallenge): BearerErrorBody {
  return { error: challenge.error ?? 'unauthorized', error_description: challenge.description };
}

export const BearerChallenges = {
  missingToken: (): BearerChallenge => ({
    status: 401,
    description: 'A bearer access token is required',
  }),
  invalidRequest: (): BearerChallenge => ({
    status: 400,
    error: 'invalid_request',
    description: 'The Authorization header is malformed',
  }),
  invalidToken: (description: string): BearerChallenge => ({
    status: 401,
    error: 'invalid_token',
    description,
  }),
  insufficientScope: (description: string, scope?: readonly string[]): BearerChallenge => ({
    status: 403,
    error: 'insufficient_scope',
    description,
    scope,
  }),
  stepUp: (
    description: string,
    acrValues?: readonly string[],
    maxAge?: number,
    claimsChallenge?: ClaimsChallenge,
  ): BearerChallenge => ({
    status: 401,
    error: 'insufficient_user_authentication',
    description,
    acrValues,
    maxAge,
    ...(claimsChallenge ? { claimsChallenge } : {}),
  }),
} as const;
