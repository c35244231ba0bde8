import { ScimError } from '../scim/scim-error';
import { parseAttrRef } from './filter-parser';
import { resolveGroupAttr, resolveUserAttr, type Target } from './filter-targets';

// sortBy / sortOrder (RFC 7644 §3.4.2.3) as an ORDER BY over the same attribute targets as filters:
// strings in their caseExact order by code point, resources without a value last, then by id so
// pages are stable. Multi-valued and complex attributes are refused (400 invalidValue).

export type SortOrder = 'ascending' | 'descending';

function orderBy(t: Target, sortBy: string, order: SortOrder, idColumn: string): string {
  if (t.kind !== 'scalar')
    throw ScimError.invalidValue(
      `sortBy ${sortBy}: only single-valued attributes can be sorted by`,
    );
  const s = t.s;
  const expr =
    s.type !== 'string'
      ? s.sql
      : `${s.caseExact ? s.sql : (s.lower ?? `scim_fold(${s.sql})`)} COLLATE "C"`;
  return `${expr} ${order === 'descending' ? 'DESC' : 'ASC'} NULLS LAST, ${idColumn}`;
}

function resolveSort(sortBy: string, resolve: typeof resolveUserAttr): Target {
  try {
    return resolve(parseAttrRef(sortBy, ScimError.invalidValue));
  } catch (e) {
    if (e instanceof ScimError && e.scimType === 'invalidFilter')
      throw ScimError.invalidValue(`sortBy: ${e.message}`);
    throw e;
  }
}

/** ORDER BY list over `scim_users u`. */
export const userOrderBy = (sortBy: string, order: SortOrder): string =>
  orderBy(resolveSort(sortBy, resolveUserAttr), sortBy, order, 'u.id');
/** ORDER BY list over `scim_groups g`. */
export const groupOrderBy = (sortBy: string, order: SortOrder): string =>
  orderBy(resolveSort(sortBy, resolveGroupAttr), sortBy, order, 'g.id');
