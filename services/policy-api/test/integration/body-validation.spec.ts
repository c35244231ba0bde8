import { expectApiErrorShape } from '../support/api-error-shape';
import type { ErrorBody } from '../support/fixtures';
import { Harness } from '../support/harness';
import { newHolder, putBeneficiaries, storedState, type Holder } from '../support/holder';

// Issue 11: every body shape and content type is a 4xx in the API's error format, naming the
// rule that failed, and never changes what is stored.
describe('PUT /policies/me/beneficiaries: body shapes, content types and names', () => {
  let h: Harness;
  let holder: Holder;
  let before: Awaited<ReturnType<typeof storedState>>;
  beforeAll(async () => {
    h = await Harness.start();
    holder = await newHolder(h);
    const good = await putBeneficiaries(h, holder, { beneficiaries: [ann()] });
    expect(good.status).toBe(200);
    holder.etag = good.headers.get('etag') ?? '';
    before = await storedState(h, holder.oid);
  }, 60000);
  afterAll(async () => {
    await h?.stop();
  });

  function ann(over: Record<string, unknown> = {}): Record<string, unknown> {
    return { name: 'Ann Example', relationship: 'spouse', sharePercent: 100, ...over };
  }
  const nested = (depth: number, leaf: string) => '['.repeat(depth) + leaf + ']'.repeat(depth);

  async function rejected(
    body: unknown,
    o: { contentType?: string } = {},
  ): Promise<ErrorBody & { status: number }> {
    const r = await putBeneficiaries(h, holder, body, o);
    expectApiErrorShape(r.body);
    return { status: r.status, ...r.body };
  }

  describe('shapes: 400 validation_failed naming the rule', () => {
    it.each([
      [
        'an array inside the list',
        '{"beneficiaries":[[]]}',
        [{ field: 'beneficiaries[0]', message: 'each beneficiary must be an object' }],
      ],
      [
        'arrays nested in the list',
        `{"beneficiaries":[${nested(3, '{"a":1}')}]}`,
        [{ field: 'beneficiaries[0]', message: 'each beneficiary must be an object' }],
      ],
      [
        'an array next to a good beneficiary',
        JSON.stringify({ beneficiaries: [ann({ sharePercent: 50 }), [ann({ sharePercent: 50 })]] }),
        [{ field: 'beneficiaries[1]', message: 'each beneficiary must be an object' }],
      ],
      [
        'null in the list',
        '{"beneficiaries":[null]}',
        [{ field: 'beneficiaries[0]', message: 'each beneficiary must be an object' }],
      ],
      ['a null body', 'null', [{ field: 'body', message: 'body must be a JSON object' }]],
      ['a number body', '42', [{ field: 'body', message: 'body must be a JSON object' }]],
      [
        'an array body',
        '[{"beneficiaries":[]}]',
        [{ field: 'body', message: 'body must be a JSON object' }],
      ],
      [
        'a null list',
        '{"beneficiaries":null}',
        [{ field: 'beneficiaries', message: 'beneficiaries must be an array' }],
      ],
      [
        'an object for the list',
        '{"beneficiaries":{"0":{}}}',
        [{ field: 'beneficiaries', message: 'beneficiaries must be an array' }],
      ],
      [
        'an empty list',
        '{"beneficiaries":[]}',
        [{ field: 'beneficiaries', message: 'beneficiaries must contain at least 1 item' }],
      ],
      [
        '21 beneficiaries',
        JSON.stringify({
          beneficiaries: Array.from({ length: 21 }, () => ann({ sharePercent: 5 })),
        }),
        [{ field: 'beneficiaries', message: 'beneficiaries must contain at most 20 items' }],
      ],
      [
        'shares adding up to 90',
        JSON.stringify({ beneficiaries: [ann({ sharePercent: 90 })] }),
        [{ field: 'beneficiaries', message: 'sharePercent values must add up to 100' }],
      ],
      [
        'a share as a string',
        JSON.stringify({ beneficiaries: [ann({ sharePercent: '100' })] }),
        [
          {
            field: 'beneficiaries[0].sharePercent',
            message: 'sharePercent must be an integer (a JSON number)',
          },
        ],
      ],
      [
        'a share as a non-numeric string',
        JSON.stringify({ beneficiaries: [ann({ sharePercent: 'abc' })] }),
        [
          {
            field: 'beneficiaries[0].sharePercent',
            message: 'sharePercent must be an integer (a JSON number)',
          },
        ],
      ],
      [
        'a null share',
        JSON.stringify({ beneficiaries: [ann({ sharePercent: null })] }),
        [
          {
            field: 'beneficiaries[0].sharePercent',
            message: 'sharePercent must be an integer (a JSON number)',
          },
        ],
      ],
      [
        'a share in an array',
        JSON.stringify({ beneficiaries: [ann({ sharePercent: [100] })] }),
        [
          {
            field: 'beneficiaries[0].sharePercent',
            message: 'sharePercent must be an integer (a JSON number)',
          },
        ],
      ],
      [
        'a share of 0',
        JSON.stringify({ beneficiaries: [ann({ sharePercent: 0 })] }),
        [{ field: 'beneficiaries[0].sharePercent', message: 'sharePercent must be at least 1' }],
      ],
      [
        'a share of 101',
        JSON.stringify({ beneficiaries: [ann({ sharePercent: 101 })] }),
        [{ field: 'beneficiaries[0].sharePercent', message: 'sharePercent must be at most 100' }],
      ],
      [
        'a name in an array',
        JSON.stringify({ beneficiaries: [ann({ name: ['Ann'] })] }),
        [{ field: 'beneficiaries[0].name', message: 'name must be a string' }],
      ],
      [
        'a name as an object',
        JSON.stringify({ beneficiaries: [ann({ name: { first: [] } })] }),
        [{ field: 'beneficiaries[0].name', message: 'name must be a string' }],
      ],
      [
        'a huge name',
        JSON.stringify({ beneficiaries: [ann({ name: 'x'.repeat(500_000) })] }),
        [{ field: 'beneficiaries[0].name', message: 'name must be 1 to 200 characters' }],
      ],
      [
        'a relationship in an array',
        JSON.stringify({ beneficiaries: [ann({ relationship: ['spouse'] })] }),
        [
          {
            field: 'beneficiaries[0].relationship',
            message: expect.stringMatching(/^relationship must be one of: spouse, /),
          },
        ],
      ],
      [
        'an unknown field',
        JSON.stringify({ beneficiaries: [ann({ email: 'ann@example.com' })] }),
        [{ field: 'beneficiaries[0].email', message: 'email is not an allowed field' }],
      ],
    ])('%s', async (_what, raw, details) => {
      const r = await rejected(raw);
      expect(r.status).toBe(400);
      expect(r.error).toBe('validation_failed');
      expect(r.details).toEqual(details);
    });

    it.each([
      ['__proto__ at the top', '{"__proto__":{"polluted":1},"beneficiaries":[]}', '__proto__'],
      [
        '__proto__ in a beneficiary',
        `{"beneficiaries":[{"__proto__":{"sharePercent":100},"name":"Ann","relationship":"spouse","sharePercent":100}]}`,
        'beneficiaries[0].__proto__',
      ],
      [
        'constructor in a beneficiary',
        JSON.stringify({ beneficiaries: [ann({ constructor: { prototype: { polluted: 1 } } })] }),
        'beneficiaries[0].constructor',
      ],
      [
        'toString in a beneficiary',
        JSON.stringify({ beneficiaries: [ann({ toString: 1 })] }),
        'beneficiaries[0].toString',
      ],
      [
        'hasOwnProperty at the top',
        JSON.stringify({ beneficiaries: [ann()], hasOwnProperty: 'x' }),
        'hasOwnProperty',
      ],
    ])('prototype-named keys are refused, not half-parsed: %s', async (_what, raw, field) => {
      const r = await rejected(raw);
      expect(r.status).toBe(400);
      expect(r.error).toBe('validation_failed');
      expect(r.details).toEqual([
        { field, message: `${field.split('.').pop()} is a reserved name, not an allowed field` },
      ]);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it.each([
      ['arrays 5000 deep in the list', `{"beneficiaries":${nested(5000, '')}}`],
      // As deep as the 1 MiB body limit allows: parsing must not overflow the stack (a 500).
      ['arrays 500,000 deep in the list', `{"beneficiaries":${nested(500_000, '')}}`],
      [
        'objects 170,000 deep under an unknown key',
        `{"beneficiaries":[],"x":${'{"a":'.repeat(170_000)}1${'}'.repeat(170_000)}}`,
      ],
      [
        'objects 5000 deep under an unknown key',
        `{"beneficiaries":[],"x":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`,
      ],
      [
        'arrays 40 deep as a name',
        JSON.stringify({ beneficiaries: [ann({ name: JSON.parse(nested(40, '"Ann"')) })] }),
      ],
    ])('deep nesting is refused before it is walked: %s', async (_what, raw) => {
      const r = await rejected(raw);
      expect(r.status).toBe(400);
      expect(r.details).toEqual([
        { field: 'body', message: 'body must not nest deeper than 16 levels' },
      ]);
    });

    it.each([
      // ~650 kB: under the 1 MiB body limit.
      [
        '60,000 unknown keys',
        `{${Array.from({ length: 60_000 }, (_, i) => `"k${i}":0`).join(',')}}`,
      ],
      [
        '1,001 beneficiaries',
        JSON.stringify({ beneficiaries: Array.from({ length: 1001 }, () => 1) }),
      ],
      [
        '250 beneficiaries of 4 fields each (1,251 members)',
        JSON.stringify({ beneficiaries: Array.from({ length: 250 }, () => ann({ x: 1 })) }),
      ],
    ])('more than 1,000 members are refused before any rule walks them: %s', async (_what, raw) => {
      const r = await rejected(raw);
      expect(r.status).toBe(400);
      expect(r.details).toEqual([
        { field: 'body', message: 'body must not have more than 1000 members' },
      ]);
    });

    it('hostile field names are not echoed back', async () => {
      const key = `<script>${'k'.repeat(1000)}\n`;
      const r = await rejected(JSON.stringify({ beneficiaries: [ann({ [key]: 1 })] }));
      expect(r.status).toBe(400);
      expect(r.details).toEqual([
        { field: 'beneficiaries[0].?', message: 'this is not an allowed field' },
      ]);
    });
  });

  describe('content types', () => {
    it.each([
      ['a form-urlencoded body', 'beneficiaries=Ann', 'application/x-www-form-urlencoded'],
      [
        'a form-urlencoded body with a charset',
        'beneficiaries[0][name]=Ann',
        'application/x-www-form-urlencoded; charset=utf-8',
      ],
      [
        'a multipart body',
        '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--\r\n',
        'multipart/form-data; boundary=x',
      ],
      ['a plain-text body', '{"beneficiaries":[]}', 'text/plain'],
      ['a JSON-like but different type', '{"beneficiaries":[]}', 'application/merge-patch+json'],
      ['JSON in UTF-16', '{"beneficiaries":[]}', 'application/json; charset=utf-16'],
    ])('415 unsupported_media_type for %s', async (_what, raw, contentType) => {
      const r = await rejected(raw, { contentType });
      expect(r.status).toBe(415);
      expect(r.error).toBe('unsupported_media_type');
    });

    it('accepts application/json with charset=utf-8 and in any letter case', async () => {
      const r = await putBeneficiaries(
        h,
        holder,
        { beneficiaries: [ann()] },
        { contentType: 'Application/JSON; charset=UTF-8' },
      );
      expect(r.status).toBe(200);
    });

    it.each([
      ['a truncated document', '{"beneficiaries": ['],
      ['trailing garbage', '{"beneficiaries": []} x'],
      ['single quotes', "{'beneficiaries': []}"],
      ['an empty body', ''],
    ])('400 invalid_request for malformed JSON: %s', async (_what, raw) => {
      const r = await rejected(raw);
      expect(r.status).toBe(400);
      expect(r.error).toBe('invalid_request');
    });

    it.each([
      ['at the top level', '{"beneficiaries": [], "beneficiaries": []}', 'beneficiaries'],
      [
        'inside a row',
        '{"beneficiaries": [{"name": "Ann Example", "name": "Eve", "relationship": "spouse", "sharePercent": 100}]}',
        'name',
      ],
      [
        'written with an escape',
        '{"beneficiaries": [], "\\u0062eneficiaries": []}',
        'beneficiaries',
      ],
    ])(
      '400 invalid_request for a member name given twice %s, nothing stored',
      async (_w, raw, name) => {
        const stored = await storedState(h, holder.oid);
        const r = await rejected(raw);
        expect(r.status).toBe(400);
        expect(r.error).toBe('invalid_request');
        expect(r.message).toContain(`"${name}" appears twice`);
        expect(await storedState(h, holder.oid)).toEqual(stored);
      },
    );
  });

  describe('names', () => {
    it.each([
      ['RIGHT-TO-LEFT OVERRIDE', 'Ann\u202Eelpmaxe'],
      ['LEFT-TO-RIGHT EMBEDDING', '\u202AAnn'],
      ['POP DIRECTIONAL FORMATTING', 'Ann\u202C'],
      ['RIGHT-TO-LEFT ISOLATE', 'Ann \u2067Example'],
      ['POP DIRECTIONAL ISOLATE', 'Ann\u2069'],
      ['RIGHT-TO-LEFT MARK', 'Ann\u200F'],
      ['ZERO WIDTH SPACE', 'An\u200Bn'],
      ['a leading ZERO WIDTH JOINER', '\u200DAnn'],
      ['a ZERO WIDTH NON-JOINER next to a space', 'Ann \u200CExample'],
      ['BYTE ORDER MARK inside', 'An\uFEFFn'],
      ['WORD JOINER', 'Ann\u2060Example'],
      ['a tag character (hidden text)', 'Ann\u{E0041}'],
      ['a HANGUL FILLER alone (renders blank)', '\u3164'],
      ['a HANGUL FILLER between letters', 'Ann\u3164Example'],
      ['the BRAILLE PATTERN BLANK', '\u2800'],
    ])('refuses %s with 400 naming the rule', async (_what, name) => {
      const r = await rejected({ beneficiaries: [ann({ name })] });
      expect(r.status).toBe(400);
      expect(r.details).toEqual([
        {
          field: 'beneficiaries[0].name',
          message:
            'name must not contain bidirectional-override or invisible formatting characters',
        },
      ]);
    });

    it.each([
      ['a C0 control', 'Ann\u0007'],
      ['a C1 control (NEL)', 'Ann\u0085Example'],
      ['a C1 control (CSI)', 'Ann\u009B31m'],
      ['DEL', 'Ann\u007F'],
      ['a line separator', 'Ann\u2028Example'],
    ])('refuses %s with 400 naming the rule', async (_what, name) => {
      const r = await rejected({ beneficiaries: [ann({ name })] });
      expect(r.status).toBe(400);
      expect(r.details).toEqual([
        {
          field: 'beneficiaries[0].name',
          message: 'name must not contain control characters or line breaks',
        },
      ]);
    });

    it.each([
      ['private-use', 'Ann\uE000'],
      ['a noncharacter', 'Ann\uFFFF'],
      ['a noncharacter (U+FDD0)', 'Ann\uFDD0'],
      ['a supplementary private-use', 'Ann\u{F0000}'],
      ['an unassigned code point', 'Ann\u{E0080}'],
    ])('refuses %s code points with 400 naming the rule', async (_what, name) => {
      const r = await rejected({ beneficiaries: [ann({ name })] });
      expect(r.status).toBe(400);
      expect(r.details).toEqual([
        {
          field: 'beneficiaries[0].name',
          message: 'name must not contain private-use, unassigned or noncharacter code points',
        },
      ]);
    });

    it.each([
      ['combining marks only', '\u0301\u0301'],
      ['a combining mark between spaces', ' \u0308 '],
    ])('refuses a name with nothing visible (%s)', async (_what, name) => {
      const r = await rejected({ beneficiaries: [ann({ name })] });
      expect(r.status).toBe(400);
      expect(r.details).toEqual([
        { field: 'beneficiaries[0].name', message: 'name must contain a visible character' },
      ]);
    });

    it('accepts joiners where they join (emoji sequences, Persian ZWNJ) and stores names in NFC', async () => {
      const family = '\u{1F469}\u200D\u{1F469}\u200D\u{1F467} Trust';
      const persian = 'می\u200Cخواهم';
      const r = await putBeneficiaries(h, holder, {
        beneficiaries: [
          ann({ name: 'Zoe\u0301 A\u030Angstro\u0308m', sharePercent: 40 }),
          ann({ name: family, relationship: 'trust', sharePercent: 30 }),
          ann({ name: persian, relationship: 'child', sharePercent: 30 }),
        ],
      });
      expect(r.status).toBe(200);
      expect(r.body.beneficiaries.map((b) => b.name)).toEqual([
        'Zo\u00E9 \u00C5ngstr\u00F6m',
        family,
        persian,
      ]);
      holder.etag = r.headers.get('etag') ?? '';
      before = await storedState(h, holder.oid);
    });
  });

  it('no rejected request changed the policy, its history or its events', async () => {
    expect(await storedState(h, holder.oid)).toEqual(before);
  });
});
