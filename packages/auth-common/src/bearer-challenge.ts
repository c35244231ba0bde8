// RFC 6750 / RFC 9470 error responses, independent of any web framework.

export type BearerErrorCode =
  'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'insufficient_user_authentication';

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
}

export interface BearerErrorBody {
  error: string;
  error_description: string;
}

const quote = (value: string): string => `"${value.replace(/[\\"]/g, '\\$&')}"`;

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
  ): BearerChallenge => ({
    status: 401,
    error: 'insufficient_user_authentication',
    description,
    acrValues,
    maxAge,
  }),
} as const;
