import { ScimError } from './scim-error';

export const etagOf = (version: number): string => `W/"${version}"`;

/** If-Match (RFC 7232) against the current version; absent means "any". */
export function checkIfMatch(header: string | string[] | undefined, version: number): void {
  if (header === undefined) return;
  const values = (Array.isArray(header) ? header.join(',') : header)
    .split(',')
    .map((s) => s.trim());
  if (values.includes('*')) return;
  const want = etagOf(version);
  const strong = `"${version}"`;
  if (!values.some((v) => v === want || v === strong)) throw ScimError.preconditionFailed();
}

/**
 * If-None-Match (RFC 9110 §13.1.2, RFC 7644 §3.14) on a read: true when the client's copy is
 * current (`*`, or a listed tag equal to the version under the weak comparison), so the answer is
 * 304 without a body.
 */
export function notModified(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined || etag === '') return false;
  const opaque = (v: string) => v.trim().replace(/^W\//, '');
  const values = (Array.isArray(header) ? header.join(',') : header).split(',');
  return values.some((v) => v.trim() === '*' || opaque(v) === opaque(etag));
}

export function meta(
  resourceType: 'User' | 'Group',
  location: string,
  created: Date,
  lastModified: Date,
  version: number,
) {
  return {
    resourceType,
    created: created.toISOString(),
    lastModified: lastModified.toISOString(),
    location,
    version: etagOf(version),
  };
}
