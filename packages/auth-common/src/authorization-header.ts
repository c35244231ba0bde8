// Parses an Authorization header per RFC 6750 §2.1 / RFC 7235.

export type BearerCredentials =
  /** No Authorization header, or another scheme (Basic, ...): no bearer credentials at all. */
  | { kind: 'missing' }
  /** `Bearer` with no, several, or syntactically invalid tokens (RFC 6750 invalid_request). */
  | { kind: 'malformed' }
  | { kind: 'token'; token: string };

// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

type Headers = Record<string, unknown>;
type Distinct = Record<string, string[] | undefined>;
/** A Node request (`node:http`/Express) or a Fastify request (its `raw` is the Node request). */
export interface RequestWithHeaders {
  headers?: Headers;
  headersDistinct?: Distinct;
  raw?: { headersDistinct?: Distinct };
}

/**
 * The Authorization header as the client sent it: a string, or every value when it was sent more
 * than once. Node's `headers` keeps only the first of repeated Authorization headers, so a proxy
 * that reads the last one would authorise a different caller than the service (RFC 6750 §3.1:
 * such a request is malformed).
 */
export function authorizationHeaderOf(req: RequestWithHeaders): unknown {
  const all = req.raw?.headersDistinct?.authorization ?? req.headersDistinct?.authorization;
  if (all && all.length > 1) return all;
  return req.headers?.authorization;
}

export function parseAuthorizationHeader(header: unknown): BearerCredentials {
  if (Array.isArray(header)) return { kind: 'malformed' };
  if (typeof header !== 'string') return { kind: 'missing' };
  const value = header.trim();
  if (value.length === 0) return { kind: 'missing' };
  const space = value.search(/[ \t]/);
  const scheme = space === -1 ? value : value.slice(0, space);
  if (scheme.toLowerCase() !== 'bearer') return { kind: 'missing' };
  const credentials = space === -1 ? '' : value.slice(space + 1).trim();
  if (!B64TOKEN.test(credentials)) return { kind: 'malformed' };
  return { kind: 'token', token: credentials };
}
