import { rowsFromBody, rowsFromPolicy, validateRows } from '../../src/policy/beneficiary-form';
import { display, label } from '../../src/pages/display';
import { profileFromBody, validateProfile } from '../../src/profile/profile-form';

describe('beneficiaries form', () => {
  it('reads typed rows and ignores empty ones', () => {
    const rows = rowsFromBody({
      name1: ' Sam ',
      relationship1: 'spouse',
      share1: '60',
      name2: 'Alex',
      relationship2: 'child',
      share2: '40',
      name3: '',
      extra: 'x',
    });
    expect(rows).toHaveLength(5);
    expect(validateRows(rows)).toEqual({
      beneficiaries: [
        { name: 'Sam', relationship: 'spouse', sharePercent: 60 },
        { name: 'Alex', relationship: 'child', sharePercent: 40 },
      ],
      errors: [],
      fieldErrors: {},
    });
  });

  it('explains each problem, per row, and never throws on odd input', () => {
    expect(validateRows(rowsFromBody({})).errors).toEqual(['Enter at least one beneficiary.']);
    expect(
      validateRows(rowsFromBody({ name1: 'A', relationship1: 'spouse', share1: '50' })).errors,
    ).toEqual(['The shares must add up to 100%.']);
    expect(
      validateRows(rowsFromBody({ name1: '', relationship1: 'pet', share1: '0' })).errors,
    ).toEqual([
      'Beneficiary 1: enter a name.',
      'Beneficiary 1: choose a relationship.',
      'Beneficiary 1: the share must be a whole number from 1 to 100.',
    ]);
    for (const body of [null, 'x', 42, { name1: ['a'], share1: { $gt: 1 } }, { share1: '1e2' }]) {
      expect(() => validateRows(rowsFromBody(body))).not.toThrow();
      expect(validateRows(rowsFromBody(body)).errors.length).toBeGreaterThan(0);
    }
  });

  it('names the field each problem is about, for the page to mark it and link to it', () => {
    const { errors, fieldErrors } = validateRows(
      rowsFromBody({ name1: '', relationship1: 'pet', share1: '0', name2: 'Alex', share2: '5' }),
    );
    expect(fieldErrors).toEqual({
      name1: 'Beneficiary 1: enter a name.',
      relationship1: 'Beneficiary 1: choose a relationship.',
      share1: 'Beneficiary 1: the share must be a whole number from 1 to 100.',
      relationship2: 'Beneficiary 2: choose a relationship.',
    });
    expect(errors).toEqual(Object.values(fieldErrors));
    expect(validateRows(rowsFromBody({})).fieldErrors).toEqual({
      name1: 'Enter at least one beneficiary.',
    });
    // The total is about no one field: in the summary only.
    expect(
      validateRows(rowsFromBody({ name1: 'A', relationship1: 'spouse', share1: '50' })).fieldErrors,
    ).toEqual({});
  });

  it('prefills from the policy, padded to the form size', () => {
    const rows = rowsFromPolicy([{ name: 'Sam', relationship: 'spouse', sharePercent: 100 }]);
    expect(rows[0]).toEqual({ name: 'Sam', relationship: 'spouse', sharePercent: '100' });
    expect(rows.slice(1).every((r) => !r.name && !r.relationship && !r.sharePercent)).toBe(true);
  });
});

describe('profile form', () => {
  it('names the field each problem is about', () => {
    expect(validateProfile({ givenName: '', surname: 'Ext', displayName: 'x'.repeat(65) })).toEqual(
      {
        errors: ['Given name: enter a value.', 'Display name: at most 64 characters.'],
        fieldErrors: {
          givenName: 'Given name: enter a value.',
          displayName: 'Display name: at most 64 characters.',
        },
      },
    );
    expect(validateProfile({ givenName: 'A', surname: 'B', displayName: 'A B' }).errors).toEqual(
      [],
    );
  });

  it('counts UTF-16 units of the NFC form, as Graph does: 32 emoji fit, 33 do not; e + U+0301 is one', () => {
    const emoji = (n: number) => '\u{1F642}'.repeat(n);
    expect(
      validateProfile({ givenName: emoji(32), surname: 'B', displayName: 'A B' }).errors,
    ).toEqual([]);
    expect(
      validateProfile({ givenName: emoji(33), surname: 'B', displayName: 'A B' }).errors,
    ).toEqual(['Given name: at most 64 characters.']);
    expect(
      validateProfile(
        profileFromBody({ givenName: 'e\u0301'.repeat(64), surname: 'B', displayName: 'A B' }),
      ).errors,
    ).toEqual([]);
    expect(
      profileFromBody({ givenName: ' e\u0301 ', surname: 'B', displayName: 'C' }).givenName,
    ).toBe('\u00e9');
  });
});

describe('display', () => {
  it('formats claims and history fields for pages', () => {
    expect(display(['a@x.example', 'b@x.example'])).toBe('a@x.example, b@x.example');
    expect(display([{ name: 'Sam', relationship: 'spouse', sharePercent: 60 }])).toBe(
      'Sam (spouse, 60%)',
    );
    expect(display([])).toBe('(none)');
    expect(display({ a: 1 })).toBe('{"a":1}');
    expect(display(undefined)).toBe('');
    expect(label('changedAt')).toBe('Changed at');
    expect(label('policyNumber')).toBe('Policy number');
  });
});
