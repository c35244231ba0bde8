import fc from 'fast-check';
import { ENTERPRISE, GROUP, PATCH_OP, USER } from './scim-app';

// Generators for the HTTP fuzz tests. Bodies are produced as JSON *text*, so they can hold what a
// JS object literal cannot express safely (`__proto__` keys, nesting deeper than any limit).

export const PROTO_NAMES = [
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'prototype',
  'valueOf',
];

const NAMES = [
  ...[
    'userName',
    'name',
    'givenName',
    'familyName',
    'displayName',
    'emails',
    'value',
    'type',
    'primary',
    'active',
    'externalId',
    'title',
  ],
  ...[
    'id',
    'meta',
    'schemas',
    'groups',
    'members',
    'manager',
    'department',
    'display',
    '$ref',
    'addresses',
    'phoneNumbers',
    'roles',
  ],
  ...PROTO_NAMES,
];
const URNS = [USER, ENTERPRISE, GROUP, 'urn:example:unknown:1.0:Thing', ENTERPRISE.toUpperCase()];

export const attrName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...NAMES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);

/** `attr`, `attr.sub`, `urn:...:attr[.sub]`, a bare URN, or noise. */
export const attrPath = fc.oneof(
  { weight: 4, arbitrary: attrName },
  { weight: 3, arbitrary: fc.tuple(attrName, attrName).map(([a, b]) => `${a}.${b}`) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom(...URNS), attrName, fc.option(attrName, { nil: undefined }))
      .map(([u, a, s]) => `${u}:${a}${s ? `.${s}` : ''}`),
  },
  { weight: 1, arbitrary: fc.constantFrom(...URNS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
);

/** A comma-separated `attributes` / `excludedAttributes` / `sortBy` value. */
export const attrList = fc.array(attrPath, { minLength: 1, maxLength: 4 }).map((l) => l.join(','));

const compValue = fc.oneof(
  fc.string({ maxLength: 12 }).map((s) => JSON.stringify(s)),
  fc.constantFrom(
    'true',
    'false',
    'null',
    '12',
    '-1.5e3',
    '"work"',
    '"x"',
    'unquoted',
    '"\\u0000"',
  ),
);
const compareOp = fc.constantFrom(
  'eq',
  'ne',
  'co',
  'sw',
  'ew',
  'gt',
  'lt',
  'ge',
  'le',
  'EQ',
  'Eq',
  'xx',
);

/** Filters from the RFC 7644 grammar (mostly well-formed), plus noise that breaks them. */
export const filterText: fc.Arbitrary<string> = fc
  .letrec<{ f: string }>((tie) => ({
    f: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.tuple(attrPath, compareOp, compValue).map(([p, o, v]) => `${p} ${o} ${v}`),
      attrPath.map((p) => `${p} pr`),
      fc
        .tuple(tie('f'), fc.constantFrom('and', 'or', 'AND'), tie('f'))
        .map(([a, o, b]) => `${a} ${o} ${b}`),
      tie('f').map((a) => `not (${a})`),
      tie('f').map((a) => `(${a})`),
      fc.tuple(attrName, tie('f')).map(([n, a]) => `${n}[${a}]`),
    ),
  }))
  .f.chain((f) =>
    fc.oneof(
      { weight: 5, arbitrary: fc.constant(f) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(
            fc.nat(f.length),
            fc.constantFrom('(', ')', '[', ']', '"', '\\', ' ', '\u0000', 'é'),
          )
          .map(([i, c]) => f.slice(0, i) + c + f.slice(i)),
      },
      { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
      {
        weight: 1,
        arbitrary: fc
          .integer({ min: 30, max: 300 })
          .map((n) => `${'('.repeat(n)}userName eq "x"${')'.repeat(n)}`),
      },
    ),
  );

const jsonString = fc.oneof(
  { weight: 6, arbitrary: fc.string({ maxLength: 20, unit: 'grapheme' }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 20, unit: 'binary' }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('\u0000', 'True', 'False', 'work', '', ' ', 'x'.repeat(600)),
  },
  { weight: 1, arbitrary: fc.constantFrom(70_000, 300_000).map((n) => 'é'.repeat(n)) },
);
const key = fc.oneof(
  { weight: 4, arbitrary: attrName },
  { weight: 1, arbitrary: fc.constantFrom(...URNS) },
  { weight: 1, arbitrary: jsonString },
);

/** Arrays nested `n` deep around a scalar: under, at and far over the parser's limit. */
const deepText = fc
  .oneof(
    { weight: 2, arbitrary: fc.integer({ min: 1, max: 40 }) },
    { weight: 1, arbitrary: fc.constantFrom(1900, 2000, 5000) },
  )
  .chain((n) =>
    fc.constantFrom(
      `${'['.repeat(n)}1${']'.repeat(n)}`,
      `${'{"a":'.repeat(n)}null${'}'.repeat(n)}`,
    ),
  );

/** Any JSON value, as text: every type, prototype-named keys, unicode, huge strings, deep nesting. */
export const jsonText: fc.Arbitrary<string> = fc.letrec<{ v: string }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('null', 'true', 'false', '0', '-1', '1e400', '3.14'),
    jsonString.map((s) => JSON.stringify(s)),
    fc.array(tie('v'), { maxLength: 4 }).map((a) => `[${a.join(',')}]`),
    fc
      .array(fc.tuple(key, tie('v')), { maxLength: 4 })
      .map((es) => `{${es.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
    deepText,
    deepText,
  ),
})).v;

/** Object text with some fixed members first (so a body can get past the required attributes). */
const objectText = (fixed: [string, string][], extra: fc.Arbitrary<[string, string][]>) =>
  extra.map(
    (es) => `{${[...fixed, ...es].map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`,
  );
const members = (keys: fc.Arbitrary<string>) =>
  fc.array(fc.tuple(keys, jsonText), { maxLength: 5 });

let unique = 0;
/** User bodies: mostly valid cores (aws-complete or not) with fuzzed members, sometimes anything at all. */
export const userBody = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constant(null).chain(() =>
      objectText(
        [
          ['schemas', JSON.stringify([USER, ENTERPRISE])],
          ['userName', JSON.stringify(`fuzz-${unique++}`)],
        ],
        members(key),
      ),
    ),
  },
  {
    weight: 3,
    arbitrary: fc.constant(null).chain(() =>
      objectText(
        [
          ['schemas', JSON.stringify([USER])],
          ['userName', JSON.stringify(`fuzz-aws-${unique++}`)],
          ['displayName', '"D"'],
          ['name', '{"givenName":"G","familyName":"F"}'],
        ],
        members(key),
      ),
    ),
  },
  { weight: 1, arbitrary: jsonText },
);

export const groupBody = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constant(null).chain(() =>
      objectText(
        [
          ['schemas', JSON.stringify([GROUP])],
          ['displayName', JSON.stringify(`fuzz-group-${unique++}`)],
        ],
        members(key),
      ),
    ),
  },
  { weight: 1, arbitrary: jsonText },
);

const opName = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .constantFrom('add', 'replace', 'remove', 'Add', 'Replace', 'REMOVE')
      .map((s) => JSON.stringify(s)),
  },
  { weight: 1, arbitrary: jsonText },
);
const patchPath = fc.oneof(
  { weight: 4, arbitrary: attrPath.map((p) => JSON.stringify(p)) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(attrName, filterText, fc.option(attrName, { nil: undefined }))
      .map(([a, f, s]) => JSON.stringify(`${a}[${f}]${s ? `.${s}` : ''}`)),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        'emails[type eq "work"].value',
        'members[value eq "nobody"]',
        `${ENTERPRISE}:manager`,
        'name.givenName',
      )
      .map((p) => JSON.stringify(p)),
  },
  { weight: 1, arbitrary: jsonText },
);
const operation = fc
  .tuple(opName, fc.option(patchPath, { nil: undefined }), fc.option(jsonText, { nil: undefined }))
  .map(
    ([op, path, value]) =>
      `{"op":${op}${path === undefined ? '' : `,"path":${path}`}${value === undefined ? '' : `,"value":${value}`}}`,
  );

/** PatchOp bodies of one to four operations, sometimes malformed around them. */
export const patchBody = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .array(operation, { minLength: 1, maxLength: 4 })
      .map((ops) => `{"schemas":["${PATCH_OP}"],"Operations":[${ops.join(',')}]}`),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(jsonText, jsonText).map(([s, o]) => `{"schemas":${s},"Operations":${o}}`),
  },
  { weight: 1, arbitrary: jsonText },
);

/** Query-string values for paging: numbers, junk and repeats. */
export const pagingParam = fc.oneof(
  fc.integer({ min: -5, max: 2000 }).map(String),
  fc.constantFrom('', 'abc', '1e3', '99999999999', ' 7'),
);
