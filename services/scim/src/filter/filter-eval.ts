import { isObject, type JsonValue } from '../scim/schemas';
import type { AttrRef, CompValue, FilterNode } from './filter-ast';
import { getCI } from '../scim/json-ci';
import { compareCodePoints, foldCase } from './case-fold';

// In-memory evaluation, used for PATCH value filters on a resource's multi-valued elements.

function valuesAt(el: JsonValue, ref: AttrRef): JsonValue[] {
  if (!isObject(el)) return [];
  const v = getCI(el, ref.attr);
  if (v === undefined) return [];
  const items = Array.isArray(v) ? v : [v];
  if (!ref.sub) return items;
  return items.flatMap((i) => {
    if (!isObject(i)) return [];
    const s = getCI(i, ref.sub as string);
    return s === undefined ? [] : [s];
  });
}

const norm = (v: JsonValue | CompValue): JsonValue | CompValue =>
  typeof v === 'string' ? foldCase(v) : v;

function compare(a: JsonValue, op: string, b: CompValue): boolean {
  // String comparisons are case-insensitive: the sub-attributes filtered on (type, value, display) are caseExact=false.
  const x = norm(a);
  const y = norm(b);
  switch (op) {
    case 'eq':
      return x === y;
    case 'ne':
      return x !== y;
    case 'co':
      return typeof x === 'string' && typeof y === 'string' && x.includes(y);
    case 'sw':
      return typeof x === 'string' && typeof y === 'string' && x.startsWith(y);
    case 'ew':
      return typeof x === 'string' && typeof y === 'string' && x.endsWith(y);
    case 'gt':
    case 'ge':
    case 'lt':
    case 'le': {
      // Strings by code point, as the SQL side orders them (COLLATE "C").
      const d =
        typeof x === 'string' && typeof y === 'string'
          ? compareCodePoints(x, y)
          : typeof x === 'number' && typeof y === 'number'
            ? x - y
            : Number.NaN;
      if (Number.isNaN(d)) return false;
      return op === 'gt' ? d > 0 : op === 'ge' ? d >= 0 : op === 'lt' ? d < 0 : d <= 0;
    }
    default:
      return false;
  }
}

/** True when `el` (an element of a multi-valued attribute, or a resource) matches the filter. */
export function matches(el: JsonValue, f: FilterNode): boolean {
  switch (f.kind) {
    case 'and':
      return matches(el, f.left) && matches(el, f.right);
    case 'or':
      return matches(el, f.left) || matches(el, f.right);
    case 'not':
      return !matches(el, f.expr);
    case 'present':
      return valuesAt(el, f.path).some(
        (v) => v !== null && v !== '' && !(Array.isArray(v) && v.length === 0),
      );
    case 'compare':
      return valuesAt(el, f.path).some((v) => compare(v, f.op, f.value));
    case 'valuePath': {
      if (!isObject(el)) return false;
      const arr = getCI(el, f.path.attr);
      return Array.isArray(arr) && arr.some((i) => matches(i, f.filter));
    }
  }
}
