import type { JsonObject, JsonValue } from './schemas';

// SCIM attribute names are case-insensitive (RFC 7643 §2.1); these helpers look keys up that way.

export function keyCI(obj: JsonObject, name: string): string | undefined {
  if (Object.prototype.hasOwnProperty.call(obj, name)) return name;
  const l = name.toLowerCase();
  return Object.keys(obj).find((k) => k.toLowerCase() === l);
}

export function getCI(obj: JsonObject, name: string): JsonValue | undefined {
  const k = keyCI(obj, name);
  return k === undefined ? undefined : obj[k];
}

/** Sets obj[name], reusing an existing key of another case; new keys get `canonical`. */
export function setCI(obj: JsonObject, name: string, value: JsonValue, canonical = name): void {
  const k = keyCI(obj, name) ?? canonical;
  obj[k] = value;
}

export function deleteCI(obj: JsonObject, name: string): boolean {
  const k = keyCI(obj, name);
  if (k === undefined) return false;
  delete obj[k];
  return true;
}

/** Throws `fail()` when any string in the value (keys included) holds a NUL, which PostgreSQL text cannot store. */
export function assertNoNul(v: JsonValue, fail: () => Error): void {
  if (typeof v === 'string') {
    if (v.includes('\u0000')) throw fail();
  } else if (Array.isArray(v)) {
    for (const x of v) assertNoNul(x, fail);
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k.includes('\u0000')) throw fail();
      assertNoNul(x, fail);
    }
  }
}
