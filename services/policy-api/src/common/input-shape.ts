import type { FieldError } from './api-error';

/** Deeper than any DTO needs (the beneficiaries body is 3 levels); bounds every later recursive walk. */
export const MAX_DEPTH = 16;

/**
 * Far more members (object keys and array elements, all levels) than any DTO accepts (a full
 * beneficiaries body has ~80). Bounds the work of every later walk: class-validator's unknown-field
 * check grows faster than linearly with the number of keys (100,000 keys held the process ~8 s).
 */
export const MAX_MEMBERS = 1000;

/**
 * Names that class-transformer and class-validator resolve through Object.prototype: `__proto__`
 * would replace an instance's prototype, and `constructor`, `toString`, ... pass the unknown-field
 * check because that check looks them up on a plain object.
 */
const RESERVED = new Set(Object.getOwnPropertyNames(Object.prototype));

/** A field name as it may appear in an error: plain identifiers only, never a caller's odd text. */
export const fieldName = (key: string): string => (/^[A-Za-z0-9_$-]{1,64}$/.test(key) ? key : '?');

export const fieldPath = (parent: string, key: string): string =>
  /^\d+$/.test(key) ? `${parent}[${key}]` : parent ? `${parent}.${fieldName(key)}` : fieldName(key);

/**
 * Checks what every request body and query must be before DTO transformation walks it:
 * a JSON object, at most MAX_DEPTH levels and MAX_MEMBERS members, no prototype-named keys.
 * Iterative, so a hostile depth cannot overflow the stack here either.
 */
export function inputShapeErrors(value: unknown, what: 'body' | 'query'): FieldError[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [{ field: what, message: `${what} must be a JSON object` }];
  }
  const errors: FieldError[] = [];
  const stack: { node: object; path: string; depth: number }[] = [
    { node: value, path: '', depth: 1 },
  ];
  let members = 0;
  while (stack.length > 0) {
    const { node, path, depth } = stack.pop() as { node: object; path: string; depth: number };
    if (depth > MAX_DEPTH)
      return [{ field: what, message: `${what} must not nest deeper than ${MAX_DEPTH} levels` }];
    const keys = Object.keys(node);
    members += keys.length;
    if (members > MAX_MEMBERS)
      return [{ field: what, message: `${what} must not have more than ${MAX_MEMBERS} members` }];
    for (const key of keys) {
      const child: unknown = (node as Record<string, unknown>)[key];
      const at = fieldPath(path, key);
      if (!Array.isArray(node) && RESERVED.has(key))
        errors.push({ field: at, message: `${key} is a reserved name, not an allowed field` });
      else if (typeof child === 'object' && child !== null)
        stack.push({ node: child as object, path: at, depth: depth + 1 });
    }
  }
  return errors;
}
