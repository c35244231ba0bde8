// Azure-shaped OAuth errors: `error`, an `error_description` that starts with
// the AADSTS / AADB2C code and ends with trace id, correlation id and
// timestamp, plus `error_codes`, `timestamp`, `trace_id`, `correlation_id`.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { newGuid } from '../util/encoding';

export type OAuthErrorName =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_resource'
  | 'interaction_required'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'login_required'
  | 'server_error'
  | 'not_found';

export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: OAuthErrorName,
    /** e.g. "AADSTS7000215" or "AADB2C90080"; empty when Azure's exact code is not known. */
    readonly code: string,
    readonly detail: string,
    /** More members of the error body, e.g. the `claims` challenge of interaction_required. */
    readonly extra: Record<string, string> = {},
  ) {
    super(code ? `${code}: ${detail}` : detail);
    this.name = 'OAuthError';
  }
}

export interface OAuthErrorBody {
  error: string;
  error_description: string;
  error_codes?: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  [member: string]: unknown;
}

/** "2026-11-22 10:11:12Z", the format Entra uses. */
export function azureTimestamp(d = new Date()): string {
  return d
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

/** Entra echoes the caller's client-request-id as correlation id. */
export function correlationId(req: FastifyRequest): string {
  const fromHeader = req.headers['client-request-id'];
  const q = req.query as Record<string, unknown> | undefined;
  const candidate =
    typeof fromHeader === 'string'
      ? fromHeader
      : typeof q?.['client-request-id'] === 'string'
        ? q['client-request-id']
        : '';
  return /^[0-9a-f-]{36}$/i.test(candidate) ? candidate : newGuid();
}

export function errorBody(err: OAuthError, correlation: string): OAuthErrorBody {
  const traceId = newGuid();
  const timestamp = azureTimestamp();
  const numeric = /^AADSTS(\d+)$/.exec(err.code);
  return {
    error: err.error,
    error_description: `${err.message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlation}\r\nTimestamp: ${timestamp}`,
    ...(numeric ? { error_codes: [Number(numeric[1])] } : {}),
    timestamp,
    trace_id: traceId,
    correlation_id: correlation,
    ...err.extra,
  };
}

export function sendOAuthError(
  req: FastifyRequest,
  reply: FastifyReply,
  err: OAuthError,
): FastifyReply {
  const correlation = correlationId(req);
  return reply
    .code(err.status)
    .header('cache-control', 'no-store')
    .header('pragma', 'no-cache')
    .header('client-request-id', correlation)
    .header('x-ms-request-id', newGuid())
    .send(errorBody(err, correlation));
}

// Frequently used errors, with Entra's codes and wording.
export const errors = {
  missingParameter: (name: string) =>
    new OAuthError(
      400,
      'invalid_request',
      'AADSTS900144',
      `The request body must contain the following parameter: '${name}'.`,
    ),
  tenantNotFound: (tenant: string) =>
    new OAuthError(
      400,
      'invalid_request',
      'AADSTS90002',
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
    ),
  appNotFound: (clientId: string, tenant: string) =>
    new OAuthError(
      400,
      'unauthorized_client',
      'AADSTS700016',
      `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`,
    ),
  invalidSecret: (clientId: string) =>
    new OAuthError(
      401,
      'invalid_client',
      'AADSTS7000215',
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
    ),
  expiredSecret: (clientId: string) =>
    new OAuthError(
      401,
      'invalid_client',
      'AADSTS7000222',
      `The provided client secret keys for app '${clientId}' are expired.`,
    ),
  missingCredential: () =>
    new OAuthError(
      401,
      'invalid_client',
      'AADSTS7000218',
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    ),
  unsupportedGrantType: (grant: string) =>
    new OAuthError(
      400,
      'unsupported_grant_type',
      'AADSTS70003',
      `The app requested an unsupported grant type '${grant}'.`,
    ),
  malformedAssertion: (why: string) =>
    new OAuthError(
      401,
      'invalid_client',
      'AADSTS50027',
      `JWT token is invalid or malformed. ${why}`,
    ),
  assertionSignature: () =>
    new OAuthError(
      401,
      'invalid_client',
      'AADSTS700027',
      'Client assertion failed signature validation.',
    ),
  assertionCertificateUnknown: (clientId: string) =>
    new OAuthError(
      401,
      'invalid_client',
      'AADSTS700027',
      `Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: see x5t, Please visit the Azure Portal to register the certificate for app '${clientId}'.]`,
    ),
  assertionTime: (detail: string) =>
    new OAuthError(
      401,
      'invalid_client',
      'AADSTS700024',
      `Client assertion is not within its valid time range. ${detail}`,
    ),
  assertionReplay: (jti: string) =>
    new OAuthError(
      401,
      'invalid_client',
      'AADSTS50013',
      `Assertion is invalid: the assertion with jti '${jti}' was already used.`,
    ),
  assertionAudience: (aud: string, expected: string) =>
    new OAuthError(
      401,
      'invalid_client',
      'AADSTS50013',
      `Assertion audience claim does not match the required value. Audience in the assertion: '${aud}'. Expected: '${expected}'.`,
    ),
  assertionClientMismatch: () =>
    new OAuthError(
      401,
      'invalid_client',
      'AADSTS700021',
      "Client assertion application identifier doesn't match 'client_id' parameter.",
    ),
  badAssertionType: () =>
    new OAuthError(
      400,
      'invalid_request',
      'AADSTS70002',
      "The client_assertion_type must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.",
    ),
  scopeNotDefault: (scope: string) =>
    new OAuthError(
      400,
      'invalid_scope',
      'AADSTS1002012',
      `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    ),
  resourceNotFound: (resource: string, tenant: string) =>
    new OAuthError(
      400,
      'invalid_resource',
      'AADSTS500011',
      `The resource principal named ${resource} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`,
    ),
  multipleResources: () =>
    new OAuthError(
      400,
      'invalid_scope',
      'AADSTS28000',
      'Provided value for the input parameter scope is not valid because it contains more than one resource. Scope is not valid.',
    ),
  duplicateParameter: (name: string) =>
    new OAuthError(
      400,
      'invalid_request',
      'AADSTS9002313',
      `Invalid request. Request is malformed or invalid. - The reason: Duplicate parameter '${name}'.`,
    ),
  invalidParameter: (name: string) =>
    new OAuthError(
      400,
      'invalid_request',
      'AADSTS9002313',
      `Invalid request. Request is malformed or invalid. - The reason: The provided value for the input parameter '${name}' is not valid.`,
    ),
  oidcFetchFailed: (issuer: string) =>
    new OAuthError(
      400,
      'invalid_request',
      'AADSTS50166',
      `Request to External OIDC endpoint failed. Issuer: '${issuer}'.`,
    ),
  publicClientCredentials: () =>
    new OAuthError(
      401,
      'invalid_client',
      'AADSTS700025',
      "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
    ),
} as const;
