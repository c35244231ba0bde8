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

/** Extension schemas the fuzzed `extended` directory declares (declaredExtensions), named in every generator. */
export const EXT_USER = 'urn:ietf:params:scim:schemas:extension:CustomExtension:2.0:User';
export const EXT_GROUP = 'urn:example:scim:schemas:extension:fuzz:1.0:Group';
const EXT_NAMES = ['costCenter', 'badge', 'hiredOn', 'homepage', 'blob', 'level', 'ratio'];
const EXT_SUBS = ['quotas', 'seats', 'code'];

/** Every attribute type on the User extension (sub-attributes too), a string and a number on the Group one. */
export const declaredExtensions = [
  {
    urn: EXT_USER,
    body: {
      resourceType: 'User' as const,
      attributes: [
        { name: 'costCenter', type: 'string' },
        { name: 'badge', type: 'boolean' },
        { name: 'hiredOn', type: 'dateTime' },
        { name: 'homepage', type: 'reference', referenceTypes: ['external'] },
        { name: 'blob', type: 'binary' },
        { name: 'level', type: 'integer' },
        { name: 'ratio', type: 'decimal' },
        {
          name: 'quotas',
          type: 'complex',
          multiValued: true,
          subAttributes: [
            { name: 'value', type: 'string' },
            { name: 'seats', type: 'integer' },
            { name: 'code', type: 'string', caseExact: true },
            { name: 'primary', type: 'boolean' },
          ],
        },
      ],
    },
  },
  {
    urn: EXT_GROUP,
    body: {
      resourceType: 'Group' as const,
      attributes: [
        { name: 'costCenter', type: 'string' },
        { name: 'level', type: 'integer' },
      ],
    },
  },
];

const NAMES = [
  ...EXT_NAMES,
  ...EXT_SUBS,
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
const URNS = [
  USER,
  ENTERPRISE,
  GROUP,
  'urn:example:unknown:1.0:Thing',
  ENTERPRISE.toUpperCase(),
  EXT_USER,
  EXT_GROUP,
  EXT_USER.toLowerCase(),
];

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
    '0.1',
    '1e999',
    '9007199254740993',
    '"2026-01-31T12:00:00Z"',
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

/** Paths into the declared User extension, and values of each of its types (and of the wrong ones). */
const extPath = fc
  .constantFrom(
    ...['costCenter', 'badge', 'hiredOn', 'homepage', 'blob', 'level', 'ratio'],
    ...['quotas', 'quotas.seats', 'quotas.code', 'quotas.value', 'quotas.primary'],
  )
  .map((n) => `${EXT_USER}:${n}`);
const typedValue = fc.oneof(
  fc.integer({ min: -5, max: 20 }).map(String),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((n) => JSON.stringify(n)),
  fc.constantFrom('true', '"True"', '"CC"', '"2026-01-31T12:00:00Z"', '"https://x.example"'),
);

/** Filters from the RFC 7644 grammar (mostly well-formed), plus noise that breaks them. */
export const filterText: fc.Arbitrary<string> = fc
  .letrec<{ f: string }>((tie) => ({
    f: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.tuple(attrPath, compareOp, compValue).map(([p, o, v]) => `${p} ${o} ${v}`),
      fc.tuple(extPath, compareOp, typedValue).map(([p, o, v]) => `${p} ${o} ${v}`),
      fc
        .tuple(fc.constantFrom('seats', 'code', 'primary'), compareOp, typedValue)
        .map(([a, o, v]) => `${EXT_USER}:quotas[${a} ${o} ${v}]`),
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

/** Values for extension attributes: any JSON, or quotas-shaped elements with fuzzed members. */
const extValue = fc.oneof(
  { weight: 3, arbitrary: jsonText },
  {
    weight: 1,
    arbitrary: fc
      .array(
        fc
          .tuple(jsonText, fc.option(jsonText, { nil: undefined }))
          .map(([seats, code]) => `{"value":"q","seats":${seats}${code ? `,"code":${code}` : ''}}`),
        { maxLength: 3 },
      )
      .map((es) => `[${es.join(',')}]`),
  },
);

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
  {
    // With the User extension (declared in the `extended` directory only): its attributes and others.
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.array(fc.tuple(fc.oneof(fc.constantFrom(...EXT_NAMES, ...EXT_SUBS), key), extValue), {
          maxLength: 5,
        }),
        fc.boolean(),
      )
      .chain(([ext, listed]) =>
        objectText(
          [
            ['schemas', JSON.stringify(listed ? [USER, EXT_USER] : [USER])],
            ['userName', JSON.stringify(`fuzz-ext-${unique++}`)],
            [EXT_USER, `{${ext.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`],
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
        `${EXT_USER}:level`,
        `${EXT_USER}:quotas[seats gt 2].seats`,
        `${EXT_USER}:quotas[code eq "A" or seats eq 1.5]`,
        `${EXT_GROUP}:costCenter`,
        EXT_USER,
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

/** Operations on the declared User extension: by path, through a value filter, or path-less. */
const extOperation = fc.oneof(
  fc
    .tuple(fc.constantFrom('add', 'replace', 'remove'), extPath, typedValue)
    .map(([op, path, v]) => `{"op":"${op}","path":"${path}","value":${v}}`),
  fc
    .tuple(typedValue, typedValue)
    .map(
      ([f, v]) =>
        `{"op":"replace","path":${JSON.stringify(`${EXT_USER}:quotas[seats eq ${f}].seats`)},"value":${v}}`,
    ),
  fc
    .tuple(fc.constantFrom('level', 'ratio', 'costCenter', 'quotas'), extValue)
    .map(([k, v]) => `{"op":"add","value":{"${EXT_USER}":{"${k}":${v}}}}`),
);

/** PatchOp bodies of one to four operations, sometimes malformed around them. */
export const patchBody = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .array(
        fc.oneof({ weight: 3, arbitrary: operation }, { weight: 1, arbitrary: extOperation }),
        {
          minLength: 1,
          maxLength: 4,
        },
      )
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
