import { defineKey } from './json-tree';
import type { JsonObject, JsonValue } from './schemas';

// SCIM attribute names are case-insensitive (RFC 7643 §2.1); these helpers look keys up that way.

export function keyCI(obj: JsonObject, name: string): string | undefined {
  if (Object.hasOwn(obj, name)) return name;
  const l = name.toLowerCase();
  return Object.keys(obj).find((k) => k.toLowerCase() === l);
}

export function getCI(obj: JsonObject, name: string): JsonValue | undefined {
  const k = keyCI(obj, name);
  return k === undefined ? undefined : obj[k];
}

/** Sets obj[name], reusing an existing key of another case; new keys get `canonical`. */
export function setCI(obj: JsonObject, name: string, value: JsonValue, canonical = name): void {
  defineKey(obj, keyCI(obj, name) ?? canonical, value);
}

export function deleteCI(obj: JsonObject, name: string): boolean {
  const k = keyCI(obj, name);
  if (k === undefined) return false;
  delete obj[k];
  return true;
}
