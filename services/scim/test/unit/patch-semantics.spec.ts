import { applyPatch } from '../../src/patch/apply-patch';
import { jsonEqual } from '../../src/patch/json-equal';
import { parsePatchPath } from '../../src/patch/patch-path';
import { parsePatchRequest } from '../../src/patch/patch-request';
import { GROUP_SCHEMA, USER_SCHEMA } from '../../src/scim/attribute-defs';
import { ScimError } from '../../src/scim/scim-error';
import type { JsonObject, JsonValue } from '../../src/scim/schemas';

const scimTypeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof ScimError) return e.scimType ?? String(e.status);
    throw e;
  }
};

const base: JsonObject = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  userName: 'u',
  title: 'Engineer',
  emails: [
    { type: 'work', value: 'w@x', primary: true },
    { type: 'home', value: 'h@x' },
  ],
};
const patch = (...ops: unknown[]) =>
  applyPatch(
    base,
    parsePatchRequest({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: ops,
    }),
    USER_SCHEMA,
  );

describe('jsonEqual', () => {
  it('compares JSON values, ignoring key order but not key spelling', () => {
    expect(jsonEqual({ a: 1, b: [1, { c: null }] }, { b: [1, { c: null }], a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1 }, { A: 1 })).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual([], {})).toBe(false);
    expect(jsonEqual({ a: null }, {})).toBe(false);
    expect(jsonEqual(true, 'true')).toBe(false);
  });

  it('walks documents nested far deeper than the request limit without recursion', () => {
    const deep = (leaf: JsonValue): JsonValue => {
      let v: JsonValue = leaf;
      for (let i = 0; i < 100_000; i++) v = { n: [v] };
      return v;
    };
    expect(jsonEqual(deep(1), deep(1))).toBe(true);
    expect(jsonEqual(deep(1), deep(2))).toBe(false);
  });
});

describe('PATCH results a caller can compare with the stored document', () => {
  it.each([
    [{ op: 'remove', path: 'emails[type eq "nothere"]' }],
    [{ op: 'add', path: 'emails', value: [{ type: 'home', value: 'h@x' }] }],
    [{ op: 'replace', path: 'emails[type eq "work"]', value: { value: 'w@x' } }],
    [{ op: 'replace', path: 'title', value: 'Engineer' }],
    [
      {
        op: 'replace',
        path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department',
        value: null,
      },
    ],
  ])('%j yields a document equal to the one patched', (op) => {
    expect(jsonEqual(patch(op), base)).toBe(true);
  });
});

describe('value filters in PATCH paths', () => {
  it('accept known sub-attributes, refuse unknown ones with invalidFilter', () => {
    expect(
      parsePatchPath('emails[Type eq "work" and primary eq true]', USER_SCHEMA).filter,
    ).toBeDefined();
    expect(parsePatchPath('members[value eq "id-1"]', GROUP_SCHEMA).filter).toBeDefined();
    for (const p of [
      'emails[nosuch eq "x"]',
      'members[nosuch eq "x"]',
      'emails[not (nosuch pr)]',
    ]) {
      const schema = p.startsWith('members') ? GROUP_SCHEMA : USER_SCHEMA;
      expect({ p, t: scimTypeOf(() => parsePatchPath(p, schema)) }).toEqual({
        p,
        t: 'invalidFilter',
      });
    }
  });

  it('are not checked for attributes no schema defines (their values are stored as sent)', () => {
    expect(parsePatchPath('badges[anything eq "x"]', USER_SCHEMA).filter).toBeDefined();
  });
});

describe('primary', () => {
  it('moves to the value an operation marks primary', () => {
    expect(
      patch({ op: 'replace', path: 'emails[type eq "home"].primary', value: true }).emails,
    ).toEqual([
      { type: 'work', value: 'w@x', primary: false },
      { type: 'home', value: 'h@x', primary: true },
    ]);
  });

  it('heals a stored document with two primaries when a new one is set, and is not refused for them', () => {
    const two: JsonObject = {
      ...base,
      emails: [{ value: 'a', primary: true }, { value: 'b', primary: true }, { value: 'c' }],
    };
    const ops = (o: unknown) =>
      parsePatchRequest({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [o],
      });
    expect(
      applyPatch(two, ops({ op: 'replace', path: 'title', value: 'T' }), USER_SCHEMA).emails,
    ).toEqual(two.emails);
    expect(
      applyPatch(
        two,
        ops({ op: 'add', path: 'emails[value eq "c"].primary', value: true }),
        USER_SCHEMA,
      ).emails,
    ).toEqual([
      { value: 'a', primary: false },
      { value: 'b', primary: false },
      { value: 'c', primary: true },
    ]);
  });
});
