import { Transform } from 'class-transformer';
import { IsString } from 'class-validator';
import { Rule, Rules } from '../common/rules';

export const NAME_MAX = 200;

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

/** A beneficiary's name: NFC-normalised and trimmed, then each rule in order, the first failure reported. */
export const BeneficiaryName = (): PropertyDecorator =>
  Rules(
    Transform(({ value }: { value: unknown }) =>
      typeof value === 'string' ? value.normalize('NFC').trim() : value,
    ),
    IsString({ message: 'name must be a string' }),
    Rule(
      'nameLength',
      `name must be 1 to ${NAME_MAX} characters`,
      (v) => typeof v === 'string' && v.length > 0 && codePoints(v).length <= NAME_MAX,
    ),
    Rule(
      'nameUnicode',
      'name must be valid Unicode text (no unpaired surrogates)',
      (v) => typeof v === 'string' && !LONE_SURROGATE.test(v),
    ),
    Rule(
      'nameControls',
      'name must not contain control characters or line breaks',
      (v) => typeof v === 'string' && !CONTROL.test(v),
    ),
    Rule(
      'nameFormatting',
      'name must not contain bidirectional-override or invisible formatting characters',
      (v) => typeof v === 'string' && !hasInvisibleFormatting(v),
    ),
    Rule(
      'nameCodePoints',
      'name must not contain private-use, unassigned or noncharacter code points',
      (v) => typeof v === 'string' && !NOT_TEXT.test(v),
    ),
    // Combining marks alone have nothing to combine with: they display as (almost) nothing.
    Rule(
      'nameVisible',
      'name must contain a visible character',
      (v) => typeof v === 'string' && BASE_CHARACTER.test(v),
    ),
  );
