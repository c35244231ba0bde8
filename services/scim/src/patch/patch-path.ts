import type { FilterNode } from '../filter/filter-ast';
import { parseValueFilter } from '../filter/filter-parser';
import { ScimError } from '../scim/scim-error';
import { subDef, type AttrDef, type ResourceSchema } from '../scim/attribute-defs';

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
    // The longest URN that prefixes the path: a declared extension's URN may extend another's.
    const known = [schema.core, ...schema.extensions]
      .map((u) => u.toLowerCase())
      .filter((u) => lower === u || lower.startsWith(`${u}:`))
      .reduce<string | undefined>(
        (a, u) => (a === undefined || u.length > a.length ? u : a),
        undefined,
      );
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
  const def = schema.byUri.get(uri)?.get(head.toLowerCase());
  if (def?.multi && def.subs) checkValueFilter(filter, def);
  return { uri, attr: head, filter, sub: after ? after.slice(1) : undefined };
}

/**
 * Resolves a value filter's names and comparisons against the attribute's sub-attributes with the
 * rules a GET filter applies to the same value path (src/filter/filter-to-sql.ts), so PATCH does not
 * accept (and silently match nothing with) a filter a search refuses: RFC 7644 §3.12 invalidFilter,
 * "the specified attribute and filter comparison combination is not supported".
 */
function checkValueFilter(f: FilterNode, def: AttrDef): void {
  switch (f.kind) {
    case 'and':
    case 'or':
      checkValueFilter(f.left, def);
      checkValueFilter(f.right, def);
      return;
    case 'not':
      checkValueFilter(f.expr, def);
      return;
    case 'valuePath':
      throw ScimError.invalidFilter('Nested value filters are not allowed');
    case 'present':
    case 'compare': {
      const shown = `${f.path.uri ? `${f.path.uri}:` : ''}${f.path.attr}${f.path.sub ? `.${f.path.sub}` : ''}`;
      if (f.path.uri || f.path.sub)
        throw ScimError.invalidFilter(
          `Invalid attribute "${shown}" in the value filter of ${def.name}`,
        );
      const sd = subDef(def, f.path.attr);
      if (!sd || sd.type === 'complex')
        throw ScimError.invalidFilter(`Unknown attribute "${def.name}.${f.path.attr}"`);
      if (f.kind === 'present') return;
      const name = `${def.name}.${sd.name}`;
      const bad = (why: string) => ScimError.invalidFilter(`${name} ${why}`);
      const v = f.value;
      if (v === null) {
        if (f.op !== 'eq' && f.op !== 'ne')
          throw ScimError.invalidFilter(
            `null can only be compared with eq or ne (${name} ${f.op} null)`,
          );
        return;
      }
      if (sd.type === 'boolean') {
        if (f.op !== 'eq' && f.op !== 'ne')
          throw bad('is a boolean: only eq, ne and pr apply (RFC 7644 §3.4.2.2)');
        // Entra's single-role mapping targets `roles[primary eq "True"].value`: "True"/"False" are
        // booleans here as they are in values (any case).
        if (typeof v === 'string' && /^(true|false)$/i.test(v))
          f.value = v.toLowerCase() === 'true';
        else if (typeof v !== 'boolean') throw bad('must be compared with true or false');
        return;
      }
      if (sd.type === 'integer' || sd.type === 'decimal') {
        if (f.op === 'co' || f.op === 'sw' || f.op === 'ew')
          throw bad('is a number: use eq, ne, gt, ge, lt, le or pr');
        if (typeof v !== 'number' || !Number.isFinite(v))
          throw bad('must be compared with an unquoted number such as 42 or 1.5');
        return;
      }
      if (typeof v !== 'string') throw bad('must be compared with a quoted string');
    }
  }
}
