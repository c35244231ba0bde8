import type { FilterNode } from '../filter/filter-ast';
import { parseValueFilter } from '../filter/filter-parser';
import { ScimError } from '../scim/scim-error';
import type { ResourceSchema } from '../scim/attribute-defs';

/** A parsed PATCH path (RFC 7644 §3.5.2): `[urn:]attr[ [filter] ][.sub]`. attr '' = the whole extension. */
export interface PatchPath {
  /** Lower-cased schema URN the attribute belongs to (the core schema when none was given). */
  uri: string;
  attr: string;
  filter?: FilterNode;
  sub?: string;
}

const NAME = /^[A-Za-z$][\w$-]*$/;

export function parsePatchPath(raw: unknown, schema: ResourceSchema): PatchPath {
  if (typeof raw !== 'string' || raw.trim() === '')
    throw ScimError.invalidPath('path must be a non-empty string');
  if (raw.length > 1024) throw ScimError.invalidPath('path is too long');
  const path = raw.trim();
  const bracket = path.indexOf('[');
  let head = bracket >= 0 ? path.slice(0, bracket) : path;
  let uri = schema.core.toLowerCase();
  if (/^urn:/i.test(head)) {
    const lower = head.toLowerCase();
    const known = [schema.core, ...schema.extensions]
      .map((u) => u.toLowerCase())
      .find((u) => lower === u || lower.startsWith(`${u}:`));
    if (!known) throw ScimError.invalidPath(`Unknown schema in path "${raw}"`);
    uri = known;
    head = head.slice(known.length + 1);
    if (head === '' && bracket < 0) {
      if (known === schema.core.toLowerCase()) throw ScimError.invalidPath(`Invalid path "${raw}"`);
      return { uri, attr: '' };
    }
  }
  if (bracket < 0) {
    const parts = head.split('.');
    if (parts.length > 2 || !parts.every((p) => NAME.test(p)))
      throw ScimError.invalidPath(`Invalid path "${raw}"`);
    return { uri, attr: parts[0] ?? '', sub: parts[1] };
  }
  const close = path.lastIndexOf(']');
  if (close < bracket || !NAME.test(head)) throw ScimError.invalidPath(`Invalid path "${raw}"`);
  const after = path.slice(close + 1);
  if (after !== '' && !/^\.[A-Za-z$][\w$-]*$/.test(after))
    throw ScimError.invalidPath(`Invalid path "${raw}"`);
  let filter: FilterNode;
  try {
    filter = parseValueFilter(path.slice(bracket + 1, close));
  } catch (e) {
    if (e instanceof ScimError)
      throw ScimError.invalidPath(`Invalid filter in path "${raw}": ${e.message}`);
    throw e;
  }
  return { uri, attr: head, filter, sub: after ? after.slice(1) : undefined };
}
