import type { JsonValue } from '../scim/schemas';

/**
 * True when two JSON values are equal (object key order ignored, key spelling not). Iterative, as
 * json-tree's walks are: both sides may be stored documents nested deeper than the request limit.
 * A PATCH whose result equals the stored document changes nothing, so it must not be written
 * (no new version, lastModified or event).
 */
export function jsonEqual(a: JsonValue, b: JsonValue): boolean {
  const work: [JsonValue, JsonValue][] = [[a, b]];
  for (let item = work.pop(); item; item = work.pop()) {
    const [x, y] = item;
    if (x === y) continue;
    if (x === null || y === null || typeof x !== 'object' || typeof y !== 'object') return false;
    if (Array.isArray(x) !== Array.isArray(y)) return false;
    if (Array.isArray(x) && Array.isArray(y)) {
      if (x.length !== y.length) return false;
      x.forEach((v, i) => work.push([v, y[i] as JsonValue]));
      continue;
    }
    const xo = x as Record<string, JsonValue>;
    const yo = y as Record<string, JsonValue>;
    const keys = Object.keys(xo);
    if (keys.length !== Object.keys(yo).length) return false;
    for (const k of keys) {
      if (!Object.hasOwn(yo, k)) return false;
      work.push([xo[k] as JsonValue, yo[k] as JsonValue]);
    }
  }
  return true;
}
