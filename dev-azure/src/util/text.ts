// Characters no name, subject or address the stand-ins accept may hold: control characters (C0,
// DEL, C1) and UTF-16 that is not well formed (a lone surrogate, which JSON's \uD800 escape can
// carry; with the u flag a paired surrogate is one code point, so \p{Cs} matches lone ones only).
const UNACCEPTABLE = /\p{Cc}|\p{Cs}/u;

export function hasControlCharacter(value: string): boolean {
  return UNACCEPTABLE.test(value);
}

/** `value` for an error message: those characters as \uXXXX, so the message stays one readable line. */
export function shown(value: string, max = 130): string {
  return value
    .slice(0, max)
    .replace(/\p{Cc}|\p{Cs}/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
