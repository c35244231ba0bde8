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
