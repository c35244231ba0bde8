import { ScimError } from './scim-error';
import type { JsonObject, JsonValue } from './schemas';

// Whole-document walks without recursion: a stored document may nest deeper than the request
// limit (rows written before it existed), and native structuredClone / recursive walks overflow
// the stack at a few thousand levels.

/** Sets an own enumerable property, also for `__proto__` (plain assignment would set the prototype). */
export function defineKey(obj: JsonObject, key: string, value: JsonValue): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A deep copy of a JSON value, keys (including `__proto__`) kept as own properties, in order. */
export function cloneJson<T extends JsonValue>(root: T): T {
  const copy = (v: JsonValue): JsonValue =>
    Array.isArray(v)
      ? new Array<JsonValue>(v.length)
      : v !== null && typeof v === 'object'
        ? {}
        : v;
  const out = copy(root);
  const work: [JsonValue, JsonValue][] = [[root, out]];
  for (let item = work.pop(); item; item = work.pop()) {
    const [src, dst] = item;
    if (Array.isArray(src)) {
      const arr = dst as JsonValue[];
      src.forEach((v, i) => {
        arr[i] = copy(v);
        if (arr[i] !== null && typeof arr[i] === 'object') work.push([v, arr[i]]);
      });
    } else if (src !== null && typeof src === 'object') {
      for (const [k, v] of Object.entries(src)) {
        const c = copy(v);
        defineKey(dst as JsonObject, k, c);
        if (c !== null && typeof c === 'object') work.push([v, c]);
      }
    }
  }
  return out as T;
}

/** True when any string of the value, object keys included, satisfies `test`. */
export function someString(root: JsonValue, test: (s: string) => boolean): boolean {
  const work: JsonValue[] = [root];
  for (let v = work.pop(); v !== undefined; v = work.pop()) {
    if (typeof v === 'string') {
      if (test(v)) return true;
    } else if (Array.isArray(v)) {
      for (const x of v) work.push(x); // not push(...v): a huge array would overflow the argument list
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (test(k)) return true;
        work.push(x);
      }
    }
  }
  return false;
}

// NUL: PostgreSQL text cannot store it. A lone UTF-16 surrogate (`"\udfff"` in JSON): the json
// column would keep it, but every jsonb cast (filters, sorting) of the directory would then fail.
const LONE_SURROGATE = /\p{Cs}/u;

/** 400 invalidValue when any string in the value (keys included) holds a NUL or a lone surrogate. */
export function assertStorableText(v: JsonValue): void {
  if (someString(v, (s) => s.includes('\u0000') || LONE_SURROGATE.test(s)))
    throw ScimError.invalidValue(
      'Values must be valid Unicode text (no NUL characters, no unpaired surrogates)',
    );
}
