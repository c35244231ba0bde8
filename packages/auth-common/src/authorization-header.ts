// Parses an Authorization header per RFC 6750 §2.1 / RFC 7235.

export type BearerCredentials =
  /** No Authorization header, or another scheme (Basic, ...): no bearer credentials at all. */
  | { kind: 'missing' }
  /** `Bearer` with no, several, or syntactically invalid tokens (RFC 6750 invalid_request). */
  | { kind: 'malformed' }
  | { kind: 'token'; token: string };

// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

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
