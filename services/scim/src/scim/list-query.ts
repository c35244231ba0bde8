import type { FilterNode } from '../filter/filter-ast';
import { parseFilter } from '../filter/filter-parser';
import type { SortOrder } from '../filter/sort-to-sql';
import type { Profile } from './request-context';
import { ScimError } from './scim-error';

/** Query parameters of a list request (RFC 7644 §3.4.2), plus AWS's `cursor`. */
export interface ListQuery {
  filter?: FilterNode;
  startIndex: number;
  count: number;
  /** Set (possibly '') when the client asked for cursor paging; the id to continue after. */
  cursor?: string;
  attributes?: string[];
  excludedAttributes?: string[];
  /** RFC 7644 §3.4.2.3; ignored in the aws profile (its ServiceProviderConfig says sort is unsupported). */
  sortBy?: string;
  sortOrder: SortOrder;
}

export const AWS_MAX_RESULTS = 50;

/** Past any directory's size; larger startIndex values answer the same empty page. */
const MAX_START_INDEX = 2 ** 31 - 1;

// Any integer is one (RFC 7644 §3.4.2.4 clamps: startIndex < 1 is 1, count < 0 is 0, count over
// the page size is the page size): a huge one is clamped too, not refused as "not an integer".
function int(v: unknown, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string' || !/^[+-]?\d+$/.test(v.trim()))
    throw ScimError.invalidValue(`${name} must be an integer`);
  return Math.max(-MAX_START_INDEX, Math.min(MAX_START_INDEX, Number(v.trim())));
}

const str = (v: unknown, name: string): string | undefined => {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw ScimError.invalidValue(`${name} must be given once`);
  return v;
};

export const attrList = (v: string | undefined): string[] | undefined => {
  const list = v
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return list?.length ? list : undefined;
};

export function decodeCursor(c: string): string {
  if (c === '') return '';
  const id = Buffer.from(c, 'base64url').toString('utf8');
  if (!/^[\w-]{1,64}$/.test(id)) throw ScimError.invalidValue('cursor is invalid');
  return id;
}

export const encodeCursor = (id: string): string => Buffer.from(id, 'utf8').toString('base64url');

function parseSort(
  q: Record<string, unknown>,
  cursorMode: boolean,
): { sortBy?: string; sortOrder: SortOrder } {
  const sortBy = str(q.sortBy, 'sortBy')?.trim() || undefined;
  const order = str(q.sortOrder, 'sortOrder')?.trim().toLowerCase() || 'ascending';
  if (order !== 'ascending' && order !== 'descending')
    throw ScimError.invalidValue('sortOrder must be "ascending" or "descending"');
  if (sortBy && cursorMode)
    throw ScimError.invalidValue('sortBy cannot be combined with cursor paging');
  return { sortBy, sortOrder: order };
}

export function parseListQuery(
  q: Record<string, unknown>,
  profile: Profile,
  maxPage: number,
): ListQuery {
  const filterText = str(q.filter, 'filter');
  const max = profile === 'aws' ? AWS_MAX_RESULTS : maxPage;
  const count = int(q.count, 'count');
  const startIndex = int(q.startIndex, 'startIndex');
  const cursor = str(q.cursor, 'cursor');
  const sort =
    profile === 'aws' ? { sortOrder: 'ascending' as const } : parseSort(q, cursor !== undefined);
  return {
    ...sort,
    filter: filterText === undefined ? undefined : parseFilter(filterText),
    startIndex: Math.max(1, startIndex ?? 1),
    count: Math.min(max, Math.max(0, count ?? Math.min(100, max))),
    cursor: cursor === undefined ? undefined : decodeCursor(cursor),
    attributes: attrList(str(q.attributes, 'attributes')),
    excludedAttributes: attrList(str(q.excludedAttributes, 'excludedAttributes')),
  };
}
