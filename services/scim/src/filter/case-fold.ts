import { FOLD_FROM, FOLD_TO } from './case-fold-table';

// The one case fold of every case-insensitive comparison (filters, sorting, userName and group
// displayName uniqueness): each code point to its Unicode simple lowercase mapping, without
// context, from a pinned table. PostgreSQL's scim_fold() (migration 20261208010000_scim_case_fold)
// is built from the same table, so a value folded here equals the same value folded in SQL.
// Not toLowerCase(): its full, contextual mapping turns a word-final Σ into ς and İ into "i̇"
// (two code points), and it follows the Node version's Unicode; PostgreSQL's lower() follows the
// database's locale. Context-free also keeps `co`/`sw`/`ew` consistent: fold(a + b) = fold(a) + fold(b).

const MAP = new Map<string, string>();
{
  const from = [...FOLD_FROM];
  const to = [...FOLD_TO];
  if (from.length !== to.length) throw new Error('case-fold table: FOLD_FROM and FOLD_TO differ');
  from.forEach((c, i) => MAP.set(c, to[i] as string));
}

// eslint-disable-next-line no-control-regex -- the ASCII range itself
const ASCII = /^[\u0000-\u007f]*$/;

export function foldCase(s: string): string {
  // ASCII folds A-Z only, as toLowerCase does there (and SQL's lower() in the "C" collation).
  if (ASCII.test(s)) return s.toLowerCase();
  let out = '';
  for (const c of s) out += MAP.get(c) ?? (c < '\u0080' ? c.toLowerCase() : c);
  return out;
}

/** Orders strings by code point, as PostgreSQL's COLLATE "C" does on UTF-8 (not by UTF-16 unit). */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const x = a[Symbol.iterator]();
  const y = b[Symbol.iterator]();
  for (;;) {
    const p = x.next();
    const q = y.next();
    if (p.done) return q.done ? 0 : -1;
    if (q.done) return 1;
    const d = (p.value.codePointAt(0) as number) - (q.value.codePointAt(0) as number);
    if (d !== 0) return d;
  }
}
