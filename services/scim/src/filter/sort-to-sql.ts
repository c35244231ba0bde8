import type { ResourceSchema } from '../scim/attribute-defs';
import { ScimError } from '../scim/scim-error';
import type { AttrRef } from './filter-ast';
import { parseAttrRef } from './filter-parser';
import { resolveGroupAttr, resolveUserAttr, type Scalar, type Target } from './filter-targets';

// sortBy / sortOrder (RFC 7644 §3.4.2.3) as an ORDER BY over the same attribute targets as filters:
// strings in their caseExact order by code point; resources without a value "ordered last if
// ascending and first if descending"; then by id so pages are stable. A multi-valued attribute
// sorts by its primary value, else its first (`emails` meaning `emails.value`); a complex one
// (`name`, `addresses` without a sub-attribute) is refused (400 invalidValue).

export type SortOrder = 'ascending' | 'descending';

function sortKey(s: Scalar, sql: string): string {
  if (s.type !== 'string') return sql;
  return `${s.caseExact ? sql : sql === s.sql && s.lower ? s.lower : `scim_fold(${sql})`} COLLATE "C"`;
}

function orderBy(t: Target, sortBy: string, order: SortOrder, idColumn: string): string {
  let expr: string;
  if (t.kind === 'scalar') expr = sortKey(t.s, t.s.sql);
  else if (t.kind === 'multi' && t.m.defaultSub) {
    const s = t.m.sub(t.m.defaultSub);
    expr = sortKey(s, t.m.firstOf(s));
  } else
    throw ScimError.invalidValue(
      `sortBy ${sortBy}: a complex attribute cannot be sorted by; name one of its sub-attributes`,
    );
  return `${expr} ${order === 'descending' ? 'DESC NULLS FIRST' : 'ASC NULLS LAST'}, ${idColumn}`;
}

function resolveSort(sortBy: string, resolve: (ref: AttrRef) => Target): Target {
  try {
    return resolve(parseAttrRef(sortBy, ScimError.invalidValue));
  } catch (e) {
    if (e instanceof ScimError && e.scimType === 'invalidFilter')
      throw ScimError.invalidValue(`sortBy: ${e.message}`);
    throw e;
  }
}

/** ORDER BY list over `scim_users u`. */
export const userOrderBy = (sortBy: string, order: SortOrder, schema?: ResourceSchema): string =>
  orderBy(
    resolveSort(sortBy, (r) => resolveUserAttr(r, schema)),
    sortBy,
    order,
    'u.id',
  );
/** ORDER BY list over `scim_groups g`. */
export const groupOrderBy = (sortBy: string, order: SortOrder, schema?: ResourceSchema): string =>
  orderBy(
    resolveSort(sortBy, (r) => resolveGroupAttr(r, schema)),
    sortBy,
    order,
    'g.id',
  );
