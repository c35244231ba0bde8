// What a beneficiary's name may be, shared by the API (which enforces it) and the portal (which
// checks the form with the same rules before the step-up MFA a doomed change would cost).

export const BENEFICIARY_NAME_MAX = 200;

const codePoints = (s: string): string[] => [...s];

/** C0/C1 controls (incl. NUL, which jsonb refuses, and DEL) and line/paragraph separators. */
const CONTROL = /[\p{Cc}\u2028\u2029]/u;
const LONE_SURROGATE = /\p{Cs}/u;
const FORMAT = /^\p{Cf}$/u;
// Letters and symbols that render as blank space: Hangul fillers and the braille blank.
const BLANK_LOOKING = /[\u115F\u1160\u3164\uFFA0\u2800]/u;
// Private-use, unassigned and noncharacter code points (all Unicode Co and Cn).
const NOT_TEXT = /[\p{Co}\p{Cn}]/u;
// What can stand on its own on screen: letters, digits, punctuation, symbols (emoji).
const BASE_CHARACTER = /[\p{L}\p{N}\p{P}\p{S}]/u;
const JOINERS = new Set(['\u200C', '\u200D']);
const visible = (c: string | undefined): boolean =>
  c !== undefined && !/[\s\p{Cf}\p{Cc}\p{Z}]/u.test(c);

/**
 * Format characters (Unicode Cf) render as nothing but can reorder or hide text: bidi
 * embeddings/overrides/isolates/marks, zero-width space, word joiner, BOM, tag characters.
 * ZERO WIDTH (NON-)JOINER is kept where it joins something (emoji sequences, Persian, Indic):
 * between two visible characters. Hangul fillers and the braille blank count as invisible too.
 */
export function hasInvisibleFormatting(s: string): boolean {
  if (BLANK_LOOKING.test(s)) return true;
  const chars = codePoints(s);
  return chars.some(
    (c, i) => FORMAT.test(c) && !(JOINERS.has(c) && visible(chars[i - 1]) && visible(chars[i + 1])),
  );
}

/** The form a name is stored and checked in: NFC, trimmed. */
export const normaliseBeneficiaryName = (s: string): string => s.normalize('NFC').trim();

export interface BeneficiaryNameRule {
  /** A stable name (the API's validation constraint name). */
  name: string;
  message: string;
  test(normalised: string): boolean;
}

/** The rules in the order they are checked; the first failure is the one reported. */
export const BENEFICIARY_NAME_RULES: readonly BeneficiaryNameRule[] = [
  {
    name: 'nameLength',
    message: `name must be 1 to ${BENEFICIARY_NAME_MAX} characters`,
    test: (v) => v.length > 0 && codePoints(v).length <= BENEFICIARY_NAME_MAX,
  },
  {
    name: 'nameUnicode',
    message: 'name must be valid Unicode text (no unpaired surrogates)',
    test: (v) => !LONE_SURROGATE.test(v),
  },
  {
    name: 'nameControls',
    message: 'name must not contain control characters or line breaks',
    test: (v) => !CONTROL.test(v),
  },
  {
    name: 'nameFormatting',
    message: 'name must not contain bidirectional-override or invisible formatting characters',
    test: (v) => !hasInvisibleFormatting(v),
  },
  {
    name: 'nameCodePoints',
    message: 'name must not contain private-use, unassigned or noncharacter code points',
    test: (v) => !NOT_TEXT.test(v),
  },
  // Combining marks alone have nothing to combine with: they display as (almost) nothing.
  {
    name: 'nameVisible',
    message: 'name must contain a visible character',
    test: (v) => BASE_CHARACTER.test(v),
  },
];

/** The first rule a name (as typed) breaks, or undefined when it is a valid name. */
export function beneficiaryNameProblem(name: string): BeneficiaryNameRule | undefined {
  const v = normaliseBeneficiaryName(name);
  return BENEFICIARY_NAME_RULES.find((r) => !r.test(v));
}
