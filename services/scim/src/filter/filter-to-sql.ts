import type { SqlBuilder } from '../db/sql';
import type { Profile } from '../scim/request-context';
import { ScimError } from '../scim/scim-error';
import { foldCase } from './case-fold';
import type { ResourceSchema } from '../scim/attribute-defs';
import type { AttrRef, CompareOp, CompValue, FilterNode } from './filter-ast';
import {
  likePattern,
  resolveGroupAttr,
  resolveUserAttr,
  type Multi,
  type Scalar,
} from './filter-targets';

// Translates a parsed filter (RFC 7644 §3.4.2.2) to a SQL condition. Values only ever travel as
// parameters. Every leaf is two-valued (never SQL NULL), so `not` is an exact complement:
// `a ne v` is `not (a eq v)` and matches resources where `a` is absent; `pr` means present and
// non-empty; a multi-valued attribute matches when any of its values does.

type Resolver = (ref: AttrRef) => ReturnType<typeof resolveUserAttr>;

const ORDER: Partial<Record<CompareOp, string>> = { gt: '>', ge: '>=', lt: '<', le: '<=' };

/** `x IS NOT NULL AND cond`: false rather than NULL on a missing value, and still index-friendly. */
const guard = (s: Scalar, x: string, cond: string): string =>
  s.notNull ? cond : `(${x} IS NOT NULL AND ${cond})`;

/** The positive comparison (`ne` is its negation). */
function positive(
  s: Scalar,
  op: Exclude<CompareOp, 'ne'>,
  v: Exclude<CompValue, null>,
  b: SqlBuilder,
): string {
  const bad = (why: string) => ScimError.invalidFilter(`${s.name} ${why}`);
  switch (s.type) {
    case 'boolean': {
      if (op !== 'eq') throw bad(`is a boolean: only eq, ne and pr apply (RFC 7644 §3.4.2.2)`);
      // "True"/"False" (any case) as in PATCH value filters: Entra writes `roles[primary eq "True"]`.
      const bv =
        typeof v === 'string' && /^(true|false)$/i.test(v) ? v.toLowerCase() === 'true' : v;
      if (typeof bv !== 'boolean') throw bad('must be compared with true or false');
      return guard(s, s.sql, `${s.sql} = ${b.add(bv)}`);
    }
    case 'dateTime': {
      if (op === 'co' || op === 'sw' || op === 'ew')
        throw bad(`is a dateTime: use eq, ne, gt, ge, lt, le or pr`);
      if (
        typeof v !== 'string' ||
        !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(v) ||
        Number.isNaN(Date.parse(v))
      ) {
        throw bad('must be compared with an xsd:dateTime string such as "2026-01-31T12:00:00Z"');
      }
      return guard(
        s,
        s.sql,
        `${s.sql} ${ORDER[op] ?? '='} ${b.add(new Date(v).toISOString())}::timestamptz`,
      );
    }
    case 'number': {
      // RFC 7644 §3.4.2.2: numbers compare numerically (1.0 eq 1); co/sw/ew are string operators.
      if (op === 'co' || op === 'sw' || op === 'ew')
        throw bad(`is a number: use eq, ne, gt, ge, lt, le or pr`);
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw bad('must be compared with an unquoted number such as 42 or 1.5');
      return guard(s, s.sql, `${s.sql} ${ORDER[op] ?? '='} ${b.add(String(v))}::numeric`);
    }
    case 'string': {
      if (typeof v !== 'string') throw bad('must be compared with a quoted string');
      // Case-insensitive: both sides folded by the one fold (foldCase here, scim_fold in SQL).
      const x = s.caseExact ? s.sql : (s.lower ?? `scim_fold(${s.sql})`);
      const p = s.caseExact ? v : foldCase(v);
      if (op === 'eq') return guard(s, s.sql, `${x} = ${b.add(p)}`);
      const ord = ORDER[op];
      // Ordering by code point (COLLATE "C"), as a client comparing strings would.
      if (ord) return guard(s, s.sql, `${x} COLLATE "C" ${ord} ${b.add(p)}`);
      return guard(s, s.sql, `${x} LIKE ${b.add(likePattern(op, p))}`);
    }
  }
}

function compareScalar(s: Scalar, op: CompareOp, v: CompValue, b: SqlBuilder): string {
  if (v === null) {
    // RFC 7643 §2.5: null is the same as unassigned.
    if (op === 'eq') return `NOT (${s.present})`;
    if (op === 'ne') return s.present;
    throw ScimError.invalidFilter(`null can only be compared with eq or ne (${s.name} ${op} null)`);
  }
  if (op === 'ne') return `NOT (${positive(s, 'eq', v, b)})`;
  return positive(s, op, v, b);
}

const exists = (m: Multi, cond: string): string =>
  `EXISTS (SELECT 1 FROM ${m.from} WHERE ${m.link ? `${m.link} AND ` : ''}${cond})`;

function defaultSub(m: Multi): string {
  if (!m.defaultSub)
    throw ScimError.invalidFilter(`${m.name} is complex: compare one of its sub-attributes`);
  return m.defaultSub;
}

interface Ctx {
  b: SqlBuilder;
  resolve: Resolver;
  /** Inside a value path: the multi-valued attribute whose elements are filtered. */
  scope?: Multi;
}

function leaf(f: Extract<FilterNode, { kind: 'compare' | 'present' }>, c: Ctx): string {
  if (c.scope) {
    if (f.path.uri || f.path.sub)
      throw ScimError.invalidFilter(
        `Invalid attribute "${f.path.attr}${f.path.sub ? `.${f.path.sub}` : ''}" in the value filter of ${c.scope.name}`,
      );
    const s = c.scope.sub(f.path.attr);
    return f.kind === 'present' ? s.present : compareScalar(s, f.op, f.value, c.b);
  }
  const t = c.resolve(f.path);
  if (t.kind === 'complex') {
    if (f.kind === 'present') return t.present;
    throw ScimError.invalidFilter(`${t.name} is complex: compare one of its sub-attributes`);
  }
  if (t.kind === 'scalar')
    return f.kind === 'present' ? t.s.present : compareScalar(t.s, f.op, f.value, c.b);
  const m = t.m;
  // `emails pr` asks for a non-empty element; `emails.value pr` for an element with a value.
  if (f.kind === 'present')
    return exists(m, m.defaultSub && f.path.sub ? m.sub(m.defaultSub).present : m.elementPresent);
  const s = m.sub(defaultSub(m));
  if (f.value === null) {
    if (f.op === 'eq') return `NOT ${exists(m, s.present)}`;
    if (f.op === 'ne') return exists(m, s.present);
    throw ScimError.invalidFilter(
      `null can only be compared with eq or ne (${s.name} ${f.op} null)`,
    );
  }
  if (f.op === 'ne') return `NOT (${leaf({ ...f, op: 'eq' }, c)})`;
  const fast = typeof f.value === 'string' ? m.fast?.(f.op, f.value, c.b) : undefined;
  return fast ?? exists(m, compareScalar(s, f.op, f.value, c.b));
}

function compile(f: FilterNode, c: Ctx): string {
  switch (f.kind) {
    case 'and':
      return `(${compile(f.left, c)} AND ${compile(f.right, c)})`;
    case 'or':
      return `(${compile(f.left, c)} OR ${compile(f.right, c)})`;
    case 'not':
      return `(NOT ${compile(f.expr, c)})`;
    case 'compare':
    case 'present':
      return leaf(f, c);
    case 'valuePath': {
      if (c.scope) throw ScimError.invalidFilter('Nested value filters are not allowed');
      if (f.path.sub)
        throw ScimError.invalidFilter(`Invalid value path "${f.path.attr}.${f.path.sub}"`);
      const t = c.resolve(f.path);
      if (t.kind !== 'multi')
        throw ScimError.invalidFilter(
          `${f.path.attr} is not multi-valued: value filters apply to multi-valued attributes`,
        );
      return exists(t.m, compile(f.filter, { ...c, scope: t.m }));
    }
  }
}

function checkProfile(f: FilterNode, profile: Profile): void {
  if (profile !== 'aws') return;
  // IAM Identity Center: only `eq` (joined by `and`) with quoted values.
  if (f.kind === 'and') {
    checkProfile(f.left, profile);
    checkProfile(f.right, profile);
    return;
  }
  if (f.kind !== 'compare' || f.op !== 'eq' || !f.quoted)
    throw ScimError.invalidFilter(
      'Only eq filters with quoted values (joined by and) are supported',
    );
}

/** SQL condition over `scim_users u`. */
export function userFilterSql(
  f: FilterNode,
  profile: Profile,
  b: SqlBuilder,
  schema?: ResourceSchema,
): string {
  checkProfile(f, profile);
  return compile(f, { b, resolve: (ref) => resolveUserAttr(ref, schema) });
}

/** SQL condition over `scim_groups g`. */
export function groupFilterSql(
  f: FilterNode,
  profile: Profile,
  b: SqlBuilder,
  schema?: ResourceSchema,
): string {
  checkProfile(f, profile);
  return compile(f, { b, resolve: (ref) => resolveGroupAttr(ref, schema) });
}
