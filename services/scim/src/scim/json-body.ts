import { firstDuplicateKey } from '@idp/service-kit';

// Request bodies: parsed under both `application/scim+json` and `application/json`, with the nesting
// depth bounded before anything walks the document (native clone and stringify overflow the stack
// at a few thousand levels). The byte size is bounded by Fastify (SCIM_BODY_LIMIT_BYTES, 413).

/** Deepest nesting of objects/arrays a body may have; the top-level object is level 1. */
export const MAX_JSON_DEPTH = 32;

const INVALID_BODY = Symbol('invalid-body');
/** A body the parser refused; the SCIM guard answers it (after authentication) with invalidSyntax. */
export type InvalidBody = { [INVALID_BODY]: string };

export const invalidBodyDetail = (b: unknown): string | undefined =>
  typeof b === 'object' && b !== null && INVALID_BODY in b
    ? (b as InvalidBody)[INVALID_BODY]
    : undefined;

/** Whether JSON text nests objects/arrays deeper than `limit`: a linear scan that skips strings. */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** The parsed body, undefined for an empty one, or an InvalidBody saying what is wrong. */
export function parseScimBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  if (nestsDeeperThan(text, MAX_JSON_DEPTH))
    return {
      [INVALID_BODY]: `The request body nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels`,
    };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch {
    return { [INVALID_BODY]: 'The request body is not valid JSON' };
  }
  // Attribute names are case-insensitive (RFC 7643 §2.1): "userName" and "USERNAME" in one object
  // are one attribute given twice, and which one JSON.parse or getCI keeps is arbitrary.
  const repeated = firstDuplicateKey(text, (n) => n.toLowerCase());
  if (repeated !== undefined)
    return {
      [INVALID_BODY]: `The request body gives the attribute ${JSON.stringify(repeated.slice(0, 64))} twice in one object`,
    };
  return parsed;
}
