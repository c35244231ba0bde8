import { randomBytes } from 'node:crypto';
import { parseFilter } from '../../src/filter/filter-parser';
import { SqlBuilder } from '../../src/db/sql';
import type { FilterNode } from '../../src/filter/filter-ast';
import { groupFilterSql, userFilterSql } from '../../src/filter/filter-to-sql';
import type { Profile } from '../../src/scim/request-context';
import { applyPatch } from '../../src/patch/apply-patch';
import { parsePatchPath } from '../../src/patch/patch-path';
import { parsePatchRequest } from '../../src/patch/patch-request';
import { USER_SCHEMA } from '../../src/scim/attribute-defs';
import { ScimError } from '../../src/scim/scim-error';
import { normaliseUser } from '../../src/users/user-document';

const sql =
  (compile: (f: FilterNode, p: Profile, b: SqlBuilder) => string) =>
  (f: FilterNode, p: Profile) => {
    const b = new SqlBuilder();
    return { sql: compile(f, p, b), params: b.params };
  };
const userWhere = sql(userFilterSql);
const groupWhere = sql(groupFilterSql);

const scimTypeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof ScimError) return e.scimType ?? String(e.status);
    throw e;
  }
};

/** Deterministic pseudo-random generator so a failure can be replayed. */
function rng(seed: number) {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x / 0x7fffffff;
  };
}
const PIECES = [
  'userName',
  'emails',
  '[',
  ']',
  '(',
  ')',
  '"',
  '\\"',
  'eq',
  'and',
  'or',
  'not',
  'pr',
  ' ',
  '.',
  'value',
  'type',
  'urn:ietf:params:scim:schemas:core:2.0:User:',
  '"x"',
  '12',
  'true',
  'null',
  '\\',
  '\u0000',
  'é',
  '::',
  'members',
  'gt',
  '\n',
];
function randomText(r: () => number): string {
  if (r() < 0.3) return randomBytes(Math.floor(r() * 40)).toString('latin1');
  return Array.from(
    { length: Math.floor(r() * 12) },
    () => PIECES[Math.floor(r() * PIECES.length)],
  ).join(r() < 0.5 ? ' ' : '');
}

describe('filter parser', () => {
  it('parses the grammar of RFC 7644 §3.4.2.2', () => {
    expect(parseFilter('userName eq "bjensen"')).toEqual({
      kind: 'compare',
      path: { uri: undefined, attr: 'userName', sub: undefined },
      op: 'eq',
      value: 'bjensen',
      quoted: true,
    });
    expect(
      parseFilter('title pr and (userType eq "Employee" or not (active eq false))'),
    ).toMatchObject({ kind: 'and', right: { kind: 'or', right: { kind: 'not' } } });
    expect(parseFilter('emails[type eq "work" and value co "@example.com"]')).toMatchObject({
      kind: 'valuePath',
      path: { attr: 'emails' },
      filter: { kind: 'and' },
    });
    expect(
      parseFilter('urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "O\'Malley"'),
    ).toMatchObject({
      path: { uri: 'urn:ietf:params:scim:schemas:core:2.0:User', attr: 'name', sub: 'familyName' },
    });
    // JSON string escapes are decoded exactly.
    expect(parseFilter('userName eq "a\\"b\\\\c\\u00e9"')).toMatchObject({ value: 'a"b\\cé' });
    expect(parseFilter('meta.version eq 1.5e2')).toMatchObject({ value: 150, quoted: false });
  });

  it("reads Entra's `attr[filter].sub op value` as `attr[filter and sub op value]`", () => {
    expect(parseFilter('emails[type eq "work"].value eq "a@contoso.com"')).toEqual({
      kind: 'valuePath',
      path: { uri: undefined, attr: 'emails', sub: undefined },
      filter: {
        kind: 'and',
        left: {
          kind: 'compare',
          path: { uri: undefined, attr: 'type', sub: undefined },
          op: 'eq',
          value: 'work',
          quoted: true,
        },
        right: {
          kind: 'compare',
          path: { attr: 'value' },
          op: 'eq',
          value: 'a@contoso.com',
          quoted: true,
        },
      },
    });
    expect(parseFilter('addresses[type eq "work"].locality pr')).toMatchObject({
      filter: { right: { kind: 'present', path: { attr: 'locality' } } },
    });
    for (const bad of [
      'emails[type eq "work"] .value eq "x"',
      'emails[type eq "work"].value.x eq "x"',
      'emails[type eq "work"].',
      'emails[type eq "work"].value',
      'members[value eq "x"].display eq "y" and emails[type eq "work"].value[type eq "x"]',
    ])
      expect(() => parseFilter(bad)).toThrow(
        expect.objectContaining({ scimType: 'invalidFilter' }),
      );
  });

  it.each([
    '',
    'userName',
    'userName eq',
    'userName eq "x" and',
    'userName eq "unterminated',
    'userName xx "x"',
    '(userName eq "x"',
    'userName eq "x")',
    'emails[type eq "work"',
    'emails[type[value eq "x"] eq "y"]',
    'userName eq bareword',
    '1abc eq "x"',
    'a.b.c eq "x"',
    'userName eq "\\q"',
    'userName eq "x" "y"',
  ])('rejects %p with invalidFilter', (f) => {
    expect(scimTypeOf(() => parseFilter(f))).toBe('invalidFilter');
  });

  it('bounds nesting and length instead of overflowing', () => {
    expect(
      scimTypeOf(() => parseFilter(`${'('.repeat(5000)}userName eq "x"${')'.repeat(5000)}`)),
    ).toBe('invalidFilter');
    expect(scimTypeOf(() => parseFilter(`userName eq "${'x'.repeat(5000)}"`))).toBe(
      'invalidFilter',
    );
  });

  it('refuses unknown attributes by name, and comparisons the attribute type does not allow', () => {
    for (const [f, named] of <[string, string][]>[
      ['nosuch eq "x"', 'nosuch'],
      ['name.nosuch eq "x"', 'name.nosuch'],
      ['emails.nosuch eq "x"', 'emails.nosuch'],
      ['emails[nosuch eq "x"]', 'emails.nosuch'],
      ['userName.sub eq "x"', 'userName.sub'],
      ['meta.location eq "x"', 'meta.location'],
      ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:nosuch eq "x"', 'nosuch'],
      ['urn:x:y:userName eq "x"', 'urn:x:y:userName'],
      ['constructor eq "x"', 'constructor'],
      ['__proto__ pr', '__proto__'],
      ['password eq "x"', 'password'],
    ]) {
      expect(() => userWhere(parseFilter(f), 'default')).toThrow(
        expect.objectContaining({
          scimType: 'invalidFilter',
          message: expect.stringContaining(named),
        }),
      );
    }
    for (const f of [
      'userName eq true',
      'active gt true',
      'active co "t"',
      'meta.created co "2026"',
      'meta.created gt "yesterday"',
      'name eq "x"',
      'userName gt null',
      'title eq 5',
    ]) {
      expect(scimTypeOf(() => userWhere(parseFilter(f), 'default'))).toBe('invalidFilter');
    }
    expect(scimTypeOf(() => groupWhere(parseFilter('userName eq "x"'), 'default'))).toBe(
      'invalidFilter',
    );
  });

  it('translates to SQL with every value a parameter, using the indexed columns on the hot paths', () => {
    expect(userWhere(parseFilter('userName eq "A" or externalId eq "b"'), 'default')).toEqual({
      sql: '(u.user_name_lower = $1 OR (u.external_id IS NOT NULL AND u.external_id = $2))',
      params: ['a', 'b'],
    });
    expect(userWhere(parseFilter('userName sw "A_%"'), 'default')).toEqual({
      sql: 'u.user_name_lower LIKE $1',
      params: ['a\\_\\%%'],
    });
    expect(userWhere(parseFilter('displayName co "Ba"'), 'default')).toEqual({
      sql: '(u.display_name IS NOT NULL AND scim_fold(u.display_name) LIKE $1)',
      params: ['%ba%'],
    });
    expect(userWhere(parseFilter('emails.value co "X"'), 'default').sql).toContain(
      'scim_joined(u.emails_lower) LIKE $1',
    );
    expect(groupWhere(parseFilter('members[value eq "u1"]'), 'default')).toEqual({
      sql: 'EXISTS (SELECT 1 FROM scim_memberships m JOIN scim_users mu ON mu.id = m.user_id WHERE m.group_id = g.id AND m.user_id = $1)',
      params: ['u1'],
    });
    // Values only ever travel as parameters.
    expect(userWhere(parseFilter(`userName eq "x' OR 1=1 --"`), 'default')).toEqual({
      sql: 'u.user_name_lower = $1',
      params: ["x' or 1=1 --"],
    });
    expect(userWhere(parseFilter(`title eq "x' OR 1=1 --"`), 'default').sql).not.toContain(
      'OR 1=1',
    );
  });

  it('in the aws profile accepts only eq with quoted values, joined by and', () => {
    expect(userWhere(parseFilter('userName eq "a" and externalId eq "b"'), 'aws')).toBeDefined();
    for (const f of [
      'userName eq "a" or externalId eq "b"',
      'active eq true',
      'members[value eq "x"]',
    ]) {
      expect(scimTypeOf(() => userWhere(parseFilter(f), 'aws'))).toBe('invalidFilter');
    }
  });

  it('fuzz: random input only ever yields a filter or a ScimError (never another exception)', () => {
    const r = rng(42);
    for (let i = 0; i < 5000; i++) {
      const text = randomText(r);
      try {
        const f = parseFilter(text);
        try {
          userWhere(f, 'default');
          groupWhere(f, 'aws');
        } catch (e) {
          if (!(e instanceof ScimError) || e.status !== 400)
            throw new Error(`where(${JSON.stringify(text)}) threw ${String(e)}`);
        }
      } catch (e) {
        if (!(e instanceof ScimError) || e.scimType !== 'invalidFilter')
          throw new Error(`parseFilter(${JSON.stringify(text)}) threw ${String(e)}`);
      }
    }
  });
});

describe('PATCH paths and operations', () => {
  const base = normaliseUser({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: 'u',
    emails: [
      { type: 'work', value: 'w@x', primary: true },
      { type: 'home', value: 'h@x' },
    ],
  });
  const patch = (...ops: unknown[]) =>
    applyPatch(
      base,
      parsePatchRequest({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: ops,
      }),
      USER_SCHEMA,
    );

  it('parses value-filter paths with sub-attributes and URN prefixes', () => {
    expect(parsePatchPath('emails[type eq "work"].value', USER_SCHEMA)).toMatchObject({
      attr: 'emails',
      sub: 'value',
      filter: { kind: 'compare' },
    });
    expect(
      parsePatchPath(
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager',
        USER_SCHEMA,
      ),
    ).toEqual({
      uri: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:user',
      attr: 'manager',
      sub: undefined,
    });
    expect(
      parsePatchPath('URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:name.givenName', USER_SCHEMA),
    ).toMatchObject({ attr: 'name', sub: 'givenName' });
  });

  it.each([
    '',
    'a.b.c',
    'emails[type eq "work"',
    'emails]',
    'emails[type eq "work"]value',
    'urn:x:y:z',
    '[x]',
    'emails[type eq "a"][x]',
    'na me',
  ])('rejects path %p with invalidPath', (p) => {
    expect(scimTypeOf(() => parsePatchPath(p, USER_SCHEMA))).toBe('invalidPath');
  });

  it('adds, replaces and removes through value filters', () => {
    expect(
      patch({ op: 'replace', path: 'emails[type eq "home"].value', value: 'new@x' }).emails,
    ).toEqual([
      { type: 'work', value: 'w@x', primary: true },
      { type: 'home', value: 'new@x' },
    ]);
    expect(patch({ op: 'remove', path: 'emails[type eq "home"]' }).emails).toEqual([
      { type: 'work', value: 'w@x', primary: true },
    ]);
    expect(
      patch({ op: 'add', path: 'emails[type eq "other"].value', value: 'o@x' }).emails,
    ).toHaveLength(3);
    expect(patch({ op: 'remove', path: 'emails[type eq "nothing"]' }).emails).toHaveLength(2);
    expect(
      patch({ op: 'remove', path: 'emails', value: [{ value: 'h@x', type: 'home' }] }).emails,
    ).toHaveLength(1);
  });

  it('treats attribute names case-insensitively and keeps the stored spelling', () => {
    const out = patch(
      { op: 'Replace', path: 'EMAILS[TYPE eq "WORK"].VALUE', value: 'W2@x' },
      { op: 'add', path: 'NAME.GIVENNAME', value: 'G' },
    );
    expect(out.emails).toEqual([
      { type: 'work', value: 'W2@x', primary: true },
      { type: 'home', value: 'h@x' },
    ]);
    expect(out.name).toEqual({ givenName: 'G' });
  });

  it('fuzz: random operations only ever yield a document or a 400-class ScimError', () => {
    const r = rng(7);
    const ops = ['add', 'Replace', 'remove', 'bogus', 5];
    const values = [
      undefined,
      null,
      'x',
      'False',
      3,
      [],
      [{ value: 'v' }],
      { 'name.givenName': 'x' },
      { a: { b: 1 } },
      true,
    ];
    for (let i = 0; i < 5000; i++) {
      const op = {
        op: ops[Math.floor(r() * ops.length)],
        path: r() < 0.2 ? undefined : randomText(r),
        value: values[Math.floor(r() * values.length)],
      };
      try {
        normaliseUser(patch(op));
      } catch (e) {
        if (!(e instanceof ScimError) || e.status >= 500)
          throw new Error(`patch(${JSON.stringify(op)}) threw ${String(e)}`);
      }
    }
  });
});
