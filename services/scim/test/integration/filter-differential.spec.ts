import fc from 'fast-check';
import { parse as oracleParse, Tester, type Filter } from 'scim2-parse-filter';
import { ENTERPRISE, startScim, USER, type ScimTestApp } from '../support/scim-app';

// Differential test: generated filters over generated users, answered by PostgreSQL through the
// HTTP API and by an independent parser + in-memory evaluator (scim2-parse-filter), which must
// agree. The oracle is adjusted to the semantics this service documents: `ne` is `not eq` (absent
// attributes match), `pr` is present and non-empty, strings are case-insensitive except externalId
// (the generated data is lower-case, so lower-casing the compared value is enough). The oracle does
// not read `emails eq x` as `emails.value eq x`, so generated paths name the sub-attribute.

const SEED = Number(process.env.SCIM_FUZZ_SEED ?? 1407);
const RUNS = Number(process.env.SCIM_FUZZ_RUNS ?? 150);

const WORDS = ['', 'a', 'ab', 'b', 'ba', 'abc', 'c_', 'a%'];
const DEPT = `${ENTERPRISE}:department`;

const empty = (v: unknown): boolean =>
  v === undefined ||
  v === null ||
  v === '' ||
  (Array.isArray(v) && v.every(empty)) ||
  (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);

class Oracle extends Tester {
  override test(r: unknown, f: Filter): boolean {
    if (f.op === 'ne') return !super.test(r, { ...f, op: 'eq' });
    // A value filter applies to each element (the library hands it the whole array).
    if (f.op === '[]' && typeof r === 'object' && r !== null) {
      const key = Object.keys(r).find((k) => k.toLowerCase() === f.attrPath.toLowerCase());
      const v: unknown = key === undefined ? undefined : (r as Record<string, unknown>)[key];
      return Array.isArray(v) && v.some((el) => this.test(el, f.valFilter));
    }
    return super.test(r, f);
  }
  override pr(r: unknown): boolean {
    return !empty(r);
  }
}

/** Lower-cases compared strings except on caseExact externalId. */
function caseFold(f: Filter): Filter {
  switch (f.op) {
    case 'and':
    case 'or':
      return { ...f, filters: f.filters.map(caseFold) };
    case 'not':
      return { ...f, filter: caseFold(f.filter) };
    case '[]':
      return { ...f, valFilter: caseFold(f.valFilter) };
    case 'pr':
      return f;
    default:
      return typeof f.compValue === 'string' && f.attrPath.toLowerCase() !== 'externalid'
        ? { ...f, compValue: f.compValue.toLowerCase() }
        : f;
  }
}

const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const word = fc.constantFrom(...WORDS);
const userArb = fc.record({
  displayName: maybe(word),
  title: maybe(word),
  externalId: maybe(fc.constantFrom('Ab', 'ab', 'AB', 'x')),
  active: fc.boolean(),
  givenName: maybe(word),
  department: maybe(word),
  emails: fc.array(
    fc.record({ type: maybe(fc.constantFrom('work', 'home')), value: maybe(word) }),
    { maxLength: 2 },
  ),
});

const quoted = (v: string) => JSON.stringify(v);
const STRING_ATTRS = [
  'userName',
  'displayName',
  'title',
  'externalId',
  'emails.value',
  'emails.type',
  'name.givenName',
  DEPT,
];
const OPS = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'];
const valueWord = fc.constantFrom(...WORDS, 'AB', 'Ab', 'u1', 'work', 'HOME');

const stringLeaf = fc
  .tuple(fc.constantFrom(...STRING_ATTRS), fc.constantFrom(...OPS, 'pr'), valueWord)
  .map(([a, op, v]) => (op === 'pr' ? `${a} pr` : `${a} ${op} ${quoted(v)}`));
const boolLeaf = fc
  .tuple(fc.constantFrom('eq', 'ne'), fc.boolean())
  .map(([op, v]) => `active ${op} ${v}`);
const subLeaf = fc
  .tuple(fc.constantFrom('type', 'value'), fc.constantFrom(...OPS, 'pr'), valueWord)
  .map(([a, op, v]) => (op === 'pr' ? `${a} pr` : `${a} ${op} ${quoted(v)}`));
const subFilter: fc.Arbitrary<string> = fc.letrec<{ f: string }>((tie) => ({
  f: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    subLeaf,
    fc
      .tuple(tie('f'), fc.constantFrom('and', 'or'), tie('f'))
      .map(([l, op, r]) => `${l} ${op} ${r}`),
    tie('f').map((x) => `not (${x})`),
  ),
})).f;
const valuePath = subFilter.map((x) => `emails[${x}]`);

const filterArb: fc.Arbitrary<string> = fc.letrec<{ f: string }>((tie) => ({
  f: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    stringLeaf,
    boolLeaf,
    valuePath,
    fc
      .tuple(tie('f'), fc.constantFrom('and', 'or', 'AND', 'Or'), tie('f'))
      .map(([l, op, r]) => `${l} ${op} ${r}`),
    tie('f').map((x) => `(${x})`),
    tie('f').map((x) => `not (${x})`),
  ),
})).f;

describe('filters: differential test against an independent evaluator', () => {
  let s: ScimTestApp;
  let token: string;
  const docs = new Map<string, Record<string, unknown>>();
  beforeAll(async () => {
    s = await startScim();
    token = await s.directory('differential');
    const users = fc.sample(userArb, { seed: SEED, numRuns: 16 });
    for (const [i, u] of users.entries()) {
      const doc: Record<string, unknown> = {
        schemas: [USER, ENTERPRISE],
        userName: `u${i}${WORDS[i % WORDS.length]}`,
        active: u.active,
      };
      if (u.displayName !== undefined) doc.displayName = u.displayName;
      if (u.title !== undefined) doc.title = u.title;
      if (u.externalId !== undefined) doc.externalId = u.externalId;
      if (u.givenName !== undefined) doc.name = { givenName: u.givenName };
      if (u.department !== undefined) doc[ENTERPRISE] = { department: u.department };
      if (u.emails.length)
        doc.emails = u.emails.map((e) =>
          Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)),
        );
      const r = await s.request('POST', '/scim/v2/Users', { token, body: doc });
      expect(r.status).toBe(201);
      docs.set(r.body.id, doc);
    }
  });
  afterAll(async () => s.close());

  it('agrees with scim2-parse-filter on generated filters', async () => {
    await fc.assert(
      fc.asyncProperty(filterArb, async (filter) => {
        const oracle = new Oracle();
        const f = caseFold(oracleParse(filter));
        const want = [...docs]
          .filter(([, d]) => oracle.test(d, f))
          .map(([id]) => id)
          .sort();
        const r = await s.request(
          'GET',
          `/scim/v2/Users?count=100&filter=${encodeURIComponent(filter)}`,
          { token },
        );
        expect({ filter, status: r.status }).toEqual({ filter, status: 200 });
        expect({ filter, ids: r.body.Resources.map((x: { id: string }) => x.id).sort() }).toEqual({
          filter,
          ids: want,
        });
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
