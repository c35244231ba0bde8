// The beneficiaries form: fixed rows of name / relationship / share, checked
// here first so the user gets field-level messages before any round trip.
import { Relationship } from '@idp/contracts';
import type { BeneficiaryInput } from '../session/session-data';
import type { Beneficiary } from './policy-client';

export const FORM_ROWS = 5;
export const RELATIONSHIPS: readonly string[] = Relationship.options;

const text = (v: unknown, max: number): string =>
  typeof v === 'string' ? v.trim().slice(0, max) : '';

/** Rows as typed (strings), from a urlencoded body: name1, relationship1, share1, ... */
export function rowsFromBody(body: unknown): BeneficiaryInput[] {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const rows: BeneficiaryInput[] = [];
  for (let i = 1; i <= FORM_ROWS; i++) {
    rows.push({
      name: text(b[`name${i}`], 200),
      relationship: text(b[`relationship${i}`], 40),
      sharePercent: text(b[`share${i}`], 3),
    });
  }
  return rows;
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

export function validateRows(rows: readonly BeneficiaryInput[]): {
  beneficiaries: Beneficiary[];
  errors: string[];
} {
  const errors: string[] = [];
  const beneficiaries: Beneficiary[] = [];
  rows.forEach((r, i) => {
    const n = i + 1;
    if (!r.name && !r.relationship && !r.sharePercent) return;
    if (!r.name) errors.push(`Beneficiary ${n}: enter a name.`);
    if (!RELATIONSHIPS.includes(r.relationship))
      errors.push(`Beneficiary ${n}: choose a relationship.`);
    const share = /^\d{1,3}$/.test(r.sharePercent) ? Number(r.sharePercent) : NaN;
    if (!(share >= 1 && share <= 100))
      errors.push(`Beneficiary ${n}: the share must be a whole number from 1 to 100.`);
    beneficiaries.push({ name: r.name, relationship: r.relationship, sharePercent: share });
  });
  if (beneficiaries.length === 0) errors.push('Enter at least one beneficiary.');
  else if (errors.length === 0 && beneficiaries.reduce((s, b) => s + b.sharePercent, 0) !== 100)
    errors.push('The shares must add up to 100%.');
  return { beneficiaries: errors.length ? [] : beneficiaries, errors };
}
