import { ApiError, Errors } from '../common/api-error';

/** RFC 9110 §8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E / obs-text. */
const ENTITY_TAG = /^(W\/)?"[\x21\x23-\x7E\x80-\xFF]*"$/;

/** The strong entity-tags an If-Match names; weak ones are dropped, as strong comparison never matches them. */
export type IfMatch = string[];

const malformed = () =>
  new ApiError(400, 'validation_failed', 'The If-Match header is malformed', [
    {
      field: 'If-Match',
      message: 'If-Match must be * or a comma-separated list of quoted entity-tags, e.g. "v3"',
    },
  ]);

/**
 * Parses If-Match (RFC 9110 §13.1.1: "*" or a list of entity-tags). Missing, empty (also only
 * empty list elements) or `*`
 * (which would defeat lost-update protection) is 428; anything outside the grammar, such as an
 * unquoted `v3`, is 400, since no retry with a fresh read can make it match.
 */
export function parseIfMatch(header: string | undefined): IfMatch {
  const value = header?.trim();
  if (!value || value === '*') throw Errors.preconditionRequired();
  // A comma inside quotes belongs to the tag (etagc allows it), so split on commas outside quotes.
  const elements = value.match(/(?:[^,"]|"[^"]*")+/g) ?? [];
  // Empty list elements do not count (RFC 9110 §5.6.1): `, ,` is an empty If-Match.
  const tags = elements.map((e) => e.trim()).filter(Boolean);
  if (tags.length === 0) throw Errors.preconditionRequired();
  if (!tags.every((t) => ENTITY_TAG.test(t))) throw malformed();
  return tags.filter((t) => !t.startsWith('W/'));
}

/** Strong comparison against the current ETag; no current policy matches nothing. */
export function requireMatch(ifMatch: IfMatch, currentEtag: string | undefined): void {
  if (currentEtag === undefined || !ifMatch.includes(currentEtag))
    throw Errors.preconditionFailed();
}
