import fc from 'fast-check';
import { Relationship } from '@idp/contracts';
import { apiErrorShapeProblem } from '../support/api-error-shape';
import type { PolicyBody } from '../support/fixtures';
import { Harness } from '../support/harness';
import { newHolder, putBeneficiaries, storedState, type Holder } from '../support/holder';

// Property-based fuzzing of the running policy-api over HTTP. Seeded: a failure prints the seed
// and the shrunk counterexample; FUZZ_SEED=<seed> reproduces it. Bounded by the run counts.
const SEED = Number(process.env.FUZZ_SEED ?? 20261211);
const PUT_RUNS = 300;
const QUERY_RUNS = 100;

// The valid values come from the contract; the fuzz varies everything around them.
const RELATIONSHIPS = Relationship.options;
const NAMES = [
  'Ann Example',
  'Zoe\u0301 Müller',
  '山田 太郎',
  '\u{1F469}\u200D\u{1F469}\u200D\u{1F467} Trust',
  'می\u200Cخواهم',
  'O’Brien-Smith',
  'x'.repeat(200),
];
const NASTY = [
  '\u202E',
  '\u202A',
  '\u2066',
  '\u2069',
  '\u200B',
  '\u200D',
  '\uFEFF',
  '\u0000',
  '\u0085',
  '\u009B',
  '\u2028',
  '\uD800',
  '\u{E0041}',
  '<script>',
  '"',
  '\\',
];
const PROTO_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__defineGetter__',
];
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json; charset=utf-16',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/merge-patch+json',
];

const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc
    .array(fc.constantFrom(...NASTY, 'Ann', ' '), { minLength: 1, maxLength: 6 })
    .map((parts) => parts.join('')),
  fc.constantFrom('100', '1e2', ' 100 ', '0x64', ''),
  fc.integer({ min: 201, max: 300_000 }).map((n) => 'x'.repeat(n)),
);
const key = fc.oneof(
  fc.constantFrom(...PROTO_KEYS, 'name', 'relationship', 'sharePercent', 'beneficiaries'),
  fc.string({ maxLength: 8 }),
);
const leaf = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -5, max: 105 }),
  fc.double(),
  hostileString,
);
const { json } = fc.letrec<{ json: unknown }>((tie) => ({
  json: fc.oneof(
    { maxDepth: 4 },
    leaf,
    fc.array(tie('json'), { maxLength: 4 }),
    fc.dictionary(key, tie('json'), { maxKeys: 4 }),
  ),
}));
const extraKeys = fc.dictionary(key, json, { maxKeys: 2 });

/** Valid lists (shares add up to 100), so the fuzz also makes changes it must keep. */
const validList = fc
  .array(
    fc.record({ name: fc.constantFrom(...NAMES), relationship: fc.constantFrom(...RELATIONSHIPS) }),
    { minLength: 1, maxLength: 4 },
  )
  .map((list) =>
    list.map((b, i) => ({
      ...b,
      sharePercent:
        i === 0
          ? 100 - Math.floor(100 / list.length) * (list.length - 1)
          : Math.floor(100 / list.length),
    })),
  );
/** Near-valid beneficiaries: each field may be replaced by anything, fields dropped, extra keys added. */
const mangledBeneficiary = fc
  .tuple(
    fc.record(
      {
        name: fc.oneof(fc.constantFrom(...NAMES), hostileString, json),
        relationship: fc.oneof(fc.constantFrom(...RELATIONSHIPS), json),
        sharePercent: fc.oneof(fc.integer({ min: -1, max: 101 }), json),
      },
      { requiredKeys: [] },
    ),
    extraKeys,
  )
  .map(([b, extra]) => ({ ...extra, ...b }));
const deepRaw = fc
  .tuple(
    fc.integer({ min: 10, max: 4000 }),
    fc.constantFrom(['[', ']'], ['{"a":', '}'], ['[{"name":', '}]']),
  )
  .map(([n, [open, close]]) => `{"beneficiaries":${open.repeat(n)}1${close.repeat(n)}}`);

type Body = { raw: string } | { json: unknown };
const body: fc.Arbitrary<Body> = fc.oneof(
  { weight: 3, arbitrary: validList.map((list) => ({ json: { beneficiaries: list } })) },
  {
    weight: 4,
    arbitrary: fc
      .array(fc.oneof(mangledBeneficiary, json), { maxLength: 22 })
      .map((list) => ({ json: { beneficiaries: list } })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(json, extraKeys)
      .map(([list, extra]) => ({ json: { ...extra, beneficiaries: list } })),
  },
  { weight: 2, arbitrary: json.map((value) => ({ json: value })) },
  { weight: 1, arbitrary: deepRaw.map((raw) => ({ raw })) },
  {
    weight: 1,
    arbitrary: fc.tuple(validList, fc.nat()).map(([list, cut]) => {
      const s = JSON.stringify({ beneficiaries: list });
      return { raw: s.slice(0, cut % s.length) };
    }),
  },
);

/** If-Match variants, given the current ETag ("vN"). */
const ifMatch = fc.oneof(
  { weight: 5, arbitrary: fc.constant((etag: string) => etag) },
  {
    weight: 3,
    arbitrary: fc.constantFrom<(etag: string) => string | undefined>(
      (e) => e.replace(/"/g, ''),
      (e) => `W/${e}`,
      (e) => `"v0", ${e}`,
      (e) => `${e} ${e}`,
      (e) => `*, ${e}`,
      () => '"v1"',
      () => '*',
      () => undefined,
      () => '',
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .string({
        unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
        maxLength: 20,
      })
      .map((s) => () => s),
  },
);
const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
);

async function check(property: fc.IAsyncProperty<[...unknown[]]>, numRuns: number): Promise<void> {
  try {
    await fc.assert(property, { seed: SEED, numRuns });
  } catch (e) {
    throw new Error(
      `fuzz failed; reproduce with FUZZ_SEED=${SEED}\n${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

describe('fuzz: policy-api over HTTP (fast-check, seeded)', () => {
  let h: Harness;
  let holder: Holder;
  let bystander: Holder;
  let bystanderState: Awaited<ReturnType<typeof storedState>>;
  beforeAll(async () => {
    h = await Harness.start();
    [holder, bystander] = await Promise.all([newHolder(h), newHolder(h)]);
    for (const who of [holder, bystander]) {
      const r = await putBeneficiaries(h, who, {
        beneficiaries: [{ name: 'Ann Example', relationship: 'spouse', sharePercent: 100 }],
      });
      expect(r.status).toBe(200);
      who.etag = r.headers.get('etag') ?? '';
    }
    bystanderState = await storedState(h, bystander.oid);
  }, 60000);
  afterAll(async () => {
    await h?.stop();
  });

  it('PUT beneficiaries: never 5xx, every error in the API shape, a refused change stores nothing, an accepted one exactly itself', async () => {
    await check(
      fc.asyncProperty(body, ifMatch, contentType, async (b, match, type) => {
        const stored = await storedState(h, holder.oid);
        const r = await putBeneficiaries(h, holder, 'raw' in b ? b.raw : JSON.stringify(b.json), {
          ifMatch: match(holder.etag),
          contentType: type,
        });
        const after = await storedState(h, holder.oid);
        if (r.status >= 500) throw new Error(`${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
        if (r.status !== 200) {
          const problem = apiErrorShapeProblem(r.body);
          if (problem)
            throw new Error(`${r.status}: ${problem}: ${JSON.stringify(r.body).slice(0, 300)}`);
          expect(after).toEqual(stored);
          return;
        }
        // Accepted: the response is what is stored, and it is one new version (or none if unchanged).
        const policy = r.body as PolicyBody;
        expect(after.beneficiaries).toEqual(policy.beneficiaries);
        const changed = after.version - stored.version;
        expect([0, 1]).toContain(changed);
        expect(after.history - stored.history).toBe(changed);
        expect(after.outbox - stored.outbox).toBe(changed);
        holder.etag = r.headers.get('etag') ?? '';
      }),
      PUT_RUNS,
    );
    // Earlier good data is intact: the latest accepted list is still served, another user's untouched.
    const read = await h.call<PolicyBody>('GET', '/policies/me', { token: holder.token });
    expect(read.headers.get('etag')).toBe(holder.etag);
    expect(read.body.beneficiaries).toEqual((await storedState(h, holder.oid)).beneficiaries);
    expect(await storedState(h, bystander.oid)).toEqual(bystanderState);
  }, 120000);

  it('GET history with any query: 200 or a 400 in the API shape, never 5xx', async () => {
    const param = fc.tuple(
      fc.oneof(
        fc.constantFrom('limit', 'beforeVersion', ...PROTO_KEYS),
        fc.string({ maxLength: 6 }),
      ),
      fc.oneof(
        fc.integer({ min: -2, max: 200 }).map(String),
        // Around and beyond the database's integer range, and numbers Number() reads loosely.
        fc.bigInt({ min: 2n ** 31n - 2n, max: 10n ** 20n }).map(String),
        fc.constantFrom('2147483648', '9007199254740993', '1e3', '0x10', ' 5', '5 ', '+5', '-0'),
        hostileString.filter((s) => s.length < 2000),
      ),
    );
    await check(
      fc.asyncProperty(fc.array(param, { maxLength: 4 }), async (params) => {
        const r = await h.call(
          'GET',
          `/policies/me/history?${new URLSearchParams(params).toString()}`,
          { token: holder.token },
        );
        if (r.status === 200) return;
        if (r.status !== 400)
          throw new Error(`${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
        const problem = apiErrorShapeProblem(r.body);
        if (problem) throw new Error(`${problem}: ${JSON.stringify(r.body).slice(0, 300)}`);
      }),
      QUERY_RUNS,
    );
  }, 60000);
});
