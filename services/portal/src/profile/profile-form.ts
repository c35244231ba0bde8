// The profile form (External ID): the names Graph lets users change on themselves.

export interface ProfileFields {
  givenName: string;
  surname: string;
  displayName: string;
}

// Graph: givenName / surname 64 characters, displayName 256; one limit keeps the form simple.
// Counted in Unicode code points of the NFC form, which is also what is sent to Graph: "é" typed
// decomposed (e + U+0301) is one character and is stored as one, and an emoji is one character,
// not the two UTF-16 units String.length counts (a 40-emoji name was refused as "over 64").
const MAX = 64;

/**
 * The length the form checks: UTF-16 code units of the (NFC) value, as Graph (a .NET service, and
 * the dev-azure stand-in) counts its 64-character limit, so a name the form accepts is never refused
 * there; an emoji outside the BMP counts as two.
 */
const nameLength = (v: string): number => v.length;

/**
 * Control characters (C0, DEL, C1), line/paragraph separators, and invisible or bidi-reordering
 * format characters: saved to the directory, a name like "Alice\u202Egnp.exe" shows reordered
 * wherever it is displayed (characters policy-api also refuses in beneficiary names).
 */
const NOT_ALLOWED =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

/** Trimmed and NFC-normalised: the value checked is the value sent to Graph. */
const text = (v: unknown): string => (typeof v === 'string' ? v.normalize('NFC').trim() : '');

export function profileFromBody(body: unknown): ProfileFields {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  return {
    givenName: text(b.givenName),
    surname: text(b.surname),
    displayName: text(b.displayName),
  };
}

/** The form's problems: in page order for the summary, and by field id for the fields themselves. */
export function validateProfile(p: ProfileFields): {
  errors: string[];
  fieldErrors: Record<string, string>;
} {
  const fieldErrors: Record<string, string> = {};
  const labels: Record<keyof ProfileFields, string> = {
    givenName: 'Given name',
    surname: 'Surname',
    displayName: 'Display name',
  };
  for (const key of ['givenName', 'surname', 'displayName'] as const) {
    const v = p[key];
    if (!v) fieldErrors[key] = `${labels[key]}: enter a value.`;
    else if (nameLength(v) > MAX) fieldErrors[key] = `${labels[key]}: at most ${MAX} characters.`;
    else if (NOT_ALLOWED.test(v))
      fieldErrors[key] = `${labels[key]}: contains characters that are not allowed.`;
  }
  return { errors: Object.values(fieldErrors), fieldErrors };
}
