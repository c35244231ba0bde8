import { Errors } from '../common/api-error';

/**
 * RFC 9110 If-Match with strong comparison: a list of entity-tags, weak ones never match.
 * Missing (or `*`, which would defeat lost-update protection) is 428.
 */
export function requireIfMatch(header: string | undefined, currentEtag: string | undefined): void {
  const value = header?.trim();
  if (!value || value === '*') throw Errors.preconditionRequired();
  const tags = value.split(',').map((t) => t.trim()).filter(Boolean);
  const matches = tags.some((t) => !t.startsWith('W/') && currentEtag !== undefined && (t === currentEtag || `"${t}"` === currentEtag));
  if (!matches) throw Errors.preconditionFailed();
}
