import type { AttrRef, FilterNode } from '../filter/filter-ast';
import { resolveGroupAttr, resolveUserAttr } from '../filter/filter-targets';
import type { ResourceSchema } from '../scim/attribute-defs';
import { ScimError } from '../scim/scim-error';

// A filter sent to the SCIM base (POST /.search, RFC 7644 §3.4.3) applies to every resource type.
// Each type gets its own copy in which comparisons on attributes that type does not define are
// replaced by what they mean for an attribute that is absent (`eq`, `co`, `pr`, value paths, ...:
// false; `ne` and `eq null`: true, exactly as for an unset attribute of that type), then folded
// away, so the SQL translation of each type only ever sees its own attributes. A name no type
// defines is 400 invalidFilter, as on /Users and /Groups; every other refusal (password, a compare
// on a complex attribute, a value of the wrong type) comes from the type that defines the name.

/** A filter for one resource type, or `true` (every resource) / `false` (none: skip the type). */
export type TypedFilter = FilterNode | boolean;

type Resolver = (ref: AttrRef) => unknown;

const shown = (ref: AttrRef): string =>
  `${ref.uri ? `${ref.uri}:` : ''}${ref.attr}${ref.sub ? `.${ref.sub}` : ''}`;

const isUnknownAttribute = (e: unknown): e is ScimError =>
  e instanceof ScimError &&
  e.scimType === 'invalidFilter' &&
  /^Unknown attribute\b/.test(e.message);

/** How one leaf (or value path) evaluates on a resource that lacks its attribute. */
function absent(f: Extract<FilterNode, { kind: 'compare' | 'present' | 'valuePath' }>): boolean {
  if (f.kind !== 'compare') return false;
  if (f.value === null) return f.op === 'eq';
  return f.op === 'ne';
}

function fold(f: FilterNode, resolve: Resolver, unknown: Map<string, ScimError>): TypedFilter {
  switch (f.kind) {
    case 'and': {
      const l = fold(f.left, resolve, unknown);
      const r = fold(f.right, resolve, unknown);
      if (l === false || r === false) return false;
      if (l === true) return r;
      if (r === true) return l;
      return { kind: 'and', left: l, right: r };
    }
    case 'or': {
      const l = fold(f.left, resolve, unknown);
      const r = fold(f.right, resolve, unknown);
      if (l === true || r === true) return true;
      if (l === false) return r;
      if (r === false) return l;
      return { kind: 'or', left: l, right: r };
    }
    case 'not': {
      const e = fold(f.expr, resolve, unknown);
      return typeof e === 'boolean' ? !e : { kind: 'not', expr: e };
    }
    case 'compare':
    case 'present':
    case 'valuePath':
      try {
        resolve(f.path);
        return f;
      } catch (e) {
        if (!isUnknownAttribute(e)) throw e;
        unknown.set(shown(f.path).toLowerCase(), e);
        return absent(f);
      }
  }
}

export interface CrossTypeFilter {
  users: TypedFilter;
  groups: TypedFilter;
}

/** The filter of a search across Users and Groups, split per resource type. */
export function splitFilter(
  f: FilterNode,
  schemas: { userSchema?: ResourceSchema; groupSchema?: ResourceSchema } = {},
): CrossTypeFilter {
  const unknownToUsers = new Map<string, ScimError>();
  const unknownToGroups = new Map<string, ScimError>();
  const users = fold(f, (r) => resolveUserAttr(r, schemas.userSchema), unknownToUsers);
  const groups = fold(f, (r) => resolveGroupAttr(r, schemas.groupSchema), unknownToGroups);
  for (const [name, e] of unknownToUsers) if (unknownToGroups.has(name)) throw e;
  return { users, groups };
}
