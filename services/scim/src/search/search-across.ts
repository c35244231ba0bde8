import type { FilterNode } from '../filter/filter-ast';
import { URN, type JsonObject } from '../scim/schemas';
import type { TypedFilter } from './cross-type-filter';

/** One page of one resource type, as its list endpoint answers it. */
export interface TypePage {
  totalResults: number;
  Resources: JsonObject[];
}

/** Lists one resource type: `startIndex` is 1-based within that type. */
export type TypeLister = (
  filter: FilterNode | undefined,
  startIndex: number,
  count: number,
) => Promise<TypePage>;

export interface CrossTypeResult {
  schemas: string[];
  totalResults: number;
  itemsPerPage: number;
  startIndex: number;
  Resources: JsonObject[];
}

/**
 * Pages across several resource types as if they were one list: the types in the given order (Users,
 * then Groups), each in its own list order (by id). `startIndex`/`count` apply to the union and
 * `totalResults` is the sum of every type's. A type whose filter folded to `false` is not queried.
 * Each type is asked once, for the part of the page that falls into it (count 0 when the page is
 * already full, which still answers its total).
 */
export async function searchAcross(
  types: { filter: TypedFilter; list: TypeLister }[],
  startIndex: number,
  count: number,
): Promise<CrossTypeResult> {
  let skip = startIndex - 1;
  let want = count;
  let total = 0;
  const resources: JsonObject[] = [];
  for (const t of types) {
    if (t.filter === false) continue;
    const page = await t.list(t.filter === true ? undefined : t.filter, skip + 1, want);
    const got = page.Resources.slice(0, want);
    total += page.totalResults;
    resources.push(...got);
    want -= got.length;
    skip = Math.max(0, skip - page.totalResults);
  }
  return {
    schemas: [URN.listResponse],
    totalResults: total,
    itemsPerPage: resources.length,
    startIndex,
    Resources: resources,
  };
}
