import { SqlBuilder } from '../../src/db/sql';
import type { FilterNode } from '../../src/filter/filter-ast';
import { groupFilterSql, userFilterSql } from '../../src/filter/filter-to-sql';
import { parseFilter } from '../../src/filter/filter-parser';
import type { JsonObject } from '../../src/scim/schemas';
import { splitFilter, type TypedFilter } from '../../src/search/cross-type-filter';
import { searchAcross, type TypeLister } from '../../src/search/search-across';

// POST /.search on the base: the filter split per resource type, and paging over the union.

/** A filter back in RFC 7644 text, to compare split results readably. */
function text(f: TypedFilter): string {
  if (typeof f === 'boolean') return String(f);
  const path = (p: { uri?: string; attr: string; sub?: string }) =>
    `${p.uri ? `${p.uri}:` : ''}${p.attr}${p.sub ? `.${p.sub}` : ''}`;
  const node = (n: FilterNode): string => {
    switch (n.kind) {
      case 'and':
      case 'or':
        return `(${node(n.left)} ${n.kind} ${node(n.right)})`;
      case 'not':
        return `not (${node(n.expr)})`;
      case 'present':
        return `${path(n.path)} pr`;
      case 'compare':
        return `${path(n.path)} ${n.op} ${JSON.stringify(n.value)}`;
      case 'valuePath':
        return `${path(n.path)}[${node(n.filter)}]`;
    }
  };
  return node(f);
}

const split = (f: string) => {
  const s = splitFilter(parseFilter(f));
  return { users: text(s.users), groups: text(s.groups) };
};

describe('a filter across resource types', () => {
  it.each([
    // Defined by both: the same filter for each.
    ['displayName co "a"', 'displayName co "a"', 'displayName co "a"'],
    [
      'meta.created gt "2026-01-01T00:00:00Z"',
      'meta.created gt "2026-01-01T00:00:00Z"',
      'meta.created gt "2026-01-01T00:00:00Z"',
    ],
    // Defined by one: the other type does not match, and is not even queried.
    ['userName sw "a"', 'userName sw "a"', 'false'],
    ['members.value eq "x"', 'false', 'members.value eq "x"'],
    ['emails[type eq "work"]', 'emails[type eq "work"]', 'false'],
    [
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "x"',
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "x"',
      'false',
    ],
    ['title pr', 'title pr', 'false'],
    // An undefined attribute is an absent one: ne and eq null match, as for an unset attribute.
    ['userName ne "a"', 'userName ne "a"', 'true'],
    ['userName eq null', 'userName eq null', 'true'],
    ['not (userName eq "a")', 'not (userName eq "a")', 'true'],
    // Folding keeps what the type defines.
    [
      'userName eq "a" or displayName eq "b"',
      '(userName eq "a" or displayName eq "b")',
      'displayName eq "b"',
    ],
    ['userName eq "a" and displayName eq "b"', '(userName eq "a" and displayName eq "b")', 'false'],
    [
      '(userName eq "a" or members pr) and id pr',
      '(userName eq "a" and id pr)',
      '(members pr and id pr)',
    ],
    [
      'not (members pr) and displayName sw "x"',
      'displayName sw "x"',
      '(not (members pr) and displayName sw "x")',
    ],
  ])('%s → Users: %s, Groups: %s', (f, users, groups) => {
    expect(split(f)).toEqual({ users, groups });
  });

  it('refuses a name no resource type defines, naming it (400 invalidFilter)', () => {
    for (const [f, named] of <[string, string][]>[
      ['nosuch eq "x"', 'nosuch'],
      ['userName eq "a" or nosuch pr', 'nosuch'],
      ['members.nosuch eq "x"', 'members.nosuch'],
      ['meta.location eq "x"', 'meta.location'],
      ['urn:x:y:displayName eq "x"', 'urn:x:y:displayName'],
    ])
      expect(() => splitFilter(parseFilter(f))).toThrow(
        expect.objectContaining({
          status: 400,
          scimType: 'invalidFilter',
          message: expect.stringContaining(named),
        }),
      );
  });

  it("keeps the defining type's refusals: password, a compare on a complex attribute, a wrong value type, an unknown sub-attribute in a value path", () => {
    // What the split keeps is translated per type (as /Users and /Groups would): one of them refuses.
    const translate = (f: string) => {
      const s = splitFilter(parseFilter(f));
      if (typeof s.users !== 'boolean') userFilterSql(s.users, 'default', new SqlBuilder());
      if (typeof s.groups !== 'boolean') groupFilterSql(s.groups, 'default', new SqlBuilder());
    };
    for (const [f, named] of <[string, string][]>[
      ['password eq "x"', 'password'],
      ['name eq "x"', 'name'],
      ['title eq 5', 'title'],
      ['emails[nosuch eq "x"]', 'emails.nosuch'],
      ['displayName co "a" or members[nosuch eq "x"]', 'members.nosuch'],
    ])
      expect(() => translate(f)).toThrow(
        expect.objectContaining({
          status: 400,
          scimType: 'invalidFilter',
          message: expect.stringContaining(named),
        }),
      );
  });
});

describe('paging across resource types', () => {
  const res = (type: string, n: number): JsonObject[] =>
    Array.from({ length: n }, (_, i) => ({ id: `${type}-${i + 1}` }));
  /** A lister over `all`, recording what it was asked. */
  const lister =
    (all: JsonObject[], calls: [number, number][]): TypeLister =>
    async (_f, startIndex, count) => {
      calls.push([startIndex, count]);
      return {
        totalResults: all.length,
        Resources: all.slice(startIndex - 1, startIndex - 1 + count),
      };
    };
  const run = async (
    users: number,
    groups: number,
    startIndex: number,
    count: number,
    filters: [TypedFilter, TypedFilter] = [true, true],
  ) => {
    const calls = { users: [] as [number, number][], groups: [] as [number, number][] };
    const r = await searchAcross(
      [
        { filter: filters[0], list: lister(res('u', users), calls.users) },
        { filter: filters[1], list: lister(res('g', groups), calls.groups) },
      ],
      startIndex,
      count,
    );
    return { ...r, ids: r.Resources.map((x) => x.id), calls };
  };

  it.each([
    // users, groups, startIndex, count → ids
    [3, 2, 1, 10, ['u-1', 'u-2', 'u-3', 'g-1', 'g-2']],
    [3, 2, 1, 2, ['u-1', 'u-2']],
    [3, 2, 2, 3, ['u-2', 'u-3', 'g-1']],
    [3, 2, 4, 3, ['g-1', 'g-2']],
    [3, 2, 5, 1, ['g-2']],
    [3, 2, 6, 5, []],
    [0, 2, 1, 5, ['g-1', 'g-2']],
    [3, 0, 3, 5, ['u-3']],
    [3, 2, 1, 0, []],
  ])('%i users + %i groups, startIndex %i, count %i → %j', async (u, g, startIndex, count, ids) => {
    const r = await run(u, g, startIndex, count);
    expect(r).toMatchObject({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: u + g,
      startIndex,
      itemsPerPage: ids.length,
    });
    expect(r.ids).toEqual(ids);
    // Each type is asked once, for its part of the page (count 0 still answers its total).
    expect(r.calls.users).toHaveLength(1);
    expect(r.calls.groups).toHaveLength(1);
  });

  it('does not query a type whose filter folded to false, and counts nothing for it', async () => {
    const r = await run(3, 2, 1, 10, [true, false]);
    expect(r).toMatchObject({ totalResults: 3, ids: ['u-1', 'u-2', 'u-3'] });
    expect(r.calls.groups).toEqual([]);
  });
});
