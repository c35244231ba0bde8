// The beneficiaries form: fixed rows of name / relationship / share, checked
// here first so the user gets field-level messages before any round trip.
import { BENEFICIARY_NAME_MAX, beneficiaryNameProblem, Relationship } from '@idp/contracts';
import type { BeneficiaryInput } from '../session/session-data';
import type { Beneficiary } from './policy-client';

export const FORM_ROWS = 5;
export const RELATIONSHIPS: readonly string[] = Relationship.options;

/** Longest name the API stores, in Unicode characters (code points), as it counts them. */
export const NAME_MAX = BENEFICIARY_NAME_MAX;

/**
 * An entity-tag as the API sends it in `ETag` (RFC 9110 §8.8.3, visible ASCII only): the form
 * echoes it back as `If-Match`, so anything else is refused here instead of reaching a header.
 */
const ENTITY_TAG = /^(?:W\/)?"[\x21\x23-\x7e]{1,64}"$/;

/** What the beneficiaries form posted: the rows as typed, its ETag, and fields it sent wrongly. */
export interface BeneficiaryFormInput {
  rows: BeneficiaryInput[];
  /** The ETag the form was rendered with; undefined when missing or malformed. */
  etag: string | undefined;
  /** Fields sent more than once (`name1=a&name1=b`) or not as text. */
  errors: string[];
}

/**
 * Reads a urlencoded body: name1, relationship1, share1, ... Values are trimmed, never cut: a
 * share of "1000" or a 250-character name must be refused, not shortened into something valid.
 */
export function readBeneficiaryForm(body: unknown): BeneficiaryFormInput {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const errors: string[] = [];
  const field = (key: string, what: string): string => {
    const v = Object.hasOwn(b, key) ? b[key] : undefined;
    if (v === undefined) return '';
    if (typeof v === 'string') return v.trim();
    errors.push(`${what}: send one value, not several.`);
    return '';
  };
  const rows: BeneficiaryInput[] = [];
  for (let i = 1; i <= FORM_ROWS; i++) {
    const what = `Beneficiary ${i}`;
    rows.push({
      name: field(`name${i}`, what),
      relationship: field(`relationship${i}`, what),
      sharePercent: field(`share${i}`, what),
    });
  }
  const etag = field('etag', 'The form version');
  return { rows, etag: ENTITY_TAG.test(etag) ? etag : undefined, errors: [...new Set(errors)] };
}

/** Rows as typed (strings), from a urlencoded body. */
export function rowsFromBody(body: unknown): BeneficiaryInput[] {
  return readBeneficiaryForm(body).rows;
}

export function rowsFromPolicy(list: readonly Beneficiary[]): BeneficiaryInput[] {
  const rows = list.slice(0, FORM_ROWS).map((b) => ({
    name: b.name,
    relationship: b.relationship,
    sharePercent: String(b.sharePercent),
  }));
  while (rows.length < FORM_ROWS) rows.push({ name: '', relationship: '', sharePercent: '' });
  return rows;
}

/**
 * The form's problems: `errors` in page order for the summary, and `fieldErrors` by the id of the
 * field each one is about (the page marks that field aria-invalid and points to its message).
 */
export function validateRows(rows: readonly BeneficiaryInput[]): {
  beneficiaries: Beneficiary[];
  errors: string[];
  fieldErrors: Record<string, string>;
} {
  const errors: string[] = [];
  const fieldErrors: Record<string, string> = {};
  const fail = (field: string | undefined, message: string): void => {
    errors.push(message);
    if (field && !(field in fieldErrors)) fieldErrors[field] = message;
  };
  const beneficiaries: Beneficiary[] = [];
  rows.forEach((r, i) => {
    const n = i + 1;
    if (!r.name && !r.relationship && !r.sharePercent) return;
    // The API's own name rules (@idp/contracts): a name it would refuse is refused here, before
    // the step-up MFA the change would otherwise cost for nothing.
    const problem = beneficiaryNameProblem(r.name);
    if (problem?.name === 'nameLength')
      fail(
        `name${n}`,
        r.name.trim() === ''
          ? `Beneficiary ${n}: enter a name.`
          : `Beneficiary ${n}: the name can have at most ${NAME_MAX} characters.`,
      );
    else if (problem) fail(`name${n}`, `Beneficiary ${n}: the ${problem.message}.`);
    if (!RELATIONSHIPS.includes(r.relationship))
      fail(`relationship${n}`, `Beneficiary ${n}: choose a relationship.`);
    const share = /^\d{1,3}$/.test(r.sharePercent) ? Number(r.sharePercent) : NaN;
    if (!(share >= 1 && share <= 100))
      fail(`share${n}`, `Beneficiary ${n}: the share must be a whole number from 1 to 100.`);
    beneficiaries.push({ name: r.name, relationship: r.relationship, sharePercent: share });
  });
  // Not about one field: the first row's name is where the user starts to fix either.
  if (beneficiaries.length === 0) fail('name1', 'Enter at least one beneficiary.');
  else if (errors.length === 0 && beneficiaries.reduce((s, b) => s + b.sharePercent, 0) !== 100)
    fail(undefined, 'The shares must add up to 100%.');
  return { beneficiaries: errors.length ? [] : beneficiaries, errors, fieldErrors };
}
