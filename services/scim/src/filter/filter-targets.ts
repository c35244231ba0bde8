import type { SqlBuilder } from '../db/sql';
import {
  GROUP_SCHEMA,
  subDef,
  USER_SCHEMA,
  type AttrDef,
  type ResourceSchema,
} from '../scim/attribute-defs';
import { ScimError } from '../scim/scim-error';
import { foldCase } from './case-fold';
import type { AttrRef } from './filter-ast';

// What a filter's attribute path denotes in SQL: a single value (a column or a member of the stored
// JSON document) or the rows of a multi-valued attribute (JSON array elements or membership rows).
// Names are resolved against the schema only (Maps keyed by lower-cased names), so an unknown name
// is a 400 naming it, never a property of some prototype.

export type ValueType = 'string' | 'boolean' | 'dateTime' | 'number';

export interface Scalar {
  name: string;
  type: ValueType;
  caseExact: boolean;
  /** SQL of the value (text, boolean or timestamptz); may be NULL unless notNull. */
  sql: string;
  /** Case-folded SQL of a case-insensitive string, when a column already holds it (indexed). */
  lower?: string;
  notNull?: boolean;
  /** SQL true when the value is present and non-empty (RFC 7644 `pr`). */
  present: string;
}

export interface Multi {
  name: string;
  /** FROM items of the element rows, e.g. `jsonb_array_elements(...) e(v)`, and what ties them to the resource. */
  from: string;
  link?: string;
  /** SQL true when the element row is present and non-empty. */
  elementPresent: string;
  /** A sub-attribute in the scope of one element row. */
  sub: (name: string) => Scalar;
  /** The sub-attribute a compare without one applies to (RFC 7644: `emails co "x"` is `emails.value`). */
  defaultSub?: string;
  /** An index-friendly condition for a top-level compare on the default sub-attribute, when there is one. */
  fast?: (op: string, value: string, b: SqlBuilder) => string | undefined;
  /**
   * SQL of the sub-attribute `s` on the value a sort uses (RFC 7644 §3.4.2.3: the primary value,
   * else the first in the list), NULL when there is none.
   */
  firstOf: (s: Scalar) => string;
}

export type Target =
  | { kind: 'scalar'; s: Scalar }
  | { kind: 'multi'; m: Multi }
  | { kind: 'complex'; name: string; present: string };

const unknown = (name: string) => ScimError.invalidFilter(`Unknown attribute "${name}"`);

const jsonPresent = (j: string): string =>
  `COALESCE(${j} NOT IN ('null'::jsonb, '""'::jsonb, '[]'::jsonb, '{}'::jsonb), false)`;

/** A scalar stored in the JSON document at the jsonb expression `j`. */
function jsonScalar(name: string, def: AttrDef, j: string): Scalar {
  if (def.type === 'boolean')
    return {
      name,
      type: 'boolean',
      caseExact: true,
      sql: `(CASE WHEN jsonb_typeof(${j}) = 'boolean' THEN (${j})::boolean END)`,
      present: jsonPresent(j),
    };
  if (def.type === 'integer' || def.type === 'decimal')
    return {
      name,
      type: 'number',
      caseExact: true,
      sql: `(CASE WHEN jsonb_typeof(${j}) = 'number' THEN (${j})::numeric END)`,
      present: jsonPresent(j),
    };
  if (def.type === 'dateTime')
    return {
      name,
      type: 'dateTime',
      caseExact: true,
      sql: `(CASE WHEN jsonb_typeof(${j}) = 'string' THEN (${j} #>> '{}')::timestamptz END)`,
      present: jsonPresent(j),
    };
  return {
    name,
    type: 'string',
    caseExact: def.caseExact ?? false,
    sql: `(CASE WHEN jsonb_typeof(${j}) = 'string' THEN ${j} #>> '{}' END)`,
    present: jsonPresent(j),
  };
}

// Attribute names here come from the schema definitions (never the client's spelling), so they are
// SQL literals; the check keeps it that way should a definition ever hold something else.
const SAFE_NAME = /^[A-Za-z0-9$:._-]+$/;
const attrOf = (j: string, name: string): string => {
  if (!SAFE_NAME.test(name)) throw new Error(`unexpected attribute name in schema: ${name}`);
  return `scim_attr(${j}, '${name}')`;
};

/** An attribute of the stored JSON document `doc` (a jsonb expression). */
function jsonTarget(doc: string, def: AttrDef, sub: string | undefined, shown: string): Target {
  const j = attrOf(doc, def.name);
  if (def.type !== 'complex') {
    if (sub) throw unknown(shown);
    return { kind: 'scalar', s: jsonScalar(shown, def, j) };
  }
  if (def.multi) {
    if (sub) {
      const sd = subDef(def, sub);
      if (!sd) throw unknown(shown);
    }
    const m = jsonMulti(def, j, shown);
    return sub ? { kind: 'multi', m: { ...m, defaultSub: sub } } : { kind: 'multi', m };
  }
  if (!sub) return { kind: 'complex', name: shown, present: jsonPresent(j) };
  const sd = subDef(def, sub);
  if (!sd || sd.type === 'complex') throw unknown(shown);
  return { kind: 'scalar', s: jsonScalar(shown, sd, attrOf(j, sd.name)) };
}

function jsonMulti(def: AttrDef, j: string, shown: string): Multi {
  const array = `CASE WHEN jsonb_typeof(${j}) = 'array' THEN ${j} ELSE '[]'::jsonb END`;
  return {
    name: shown,
    from: `jsonb_array_elements(${array}) e(v)`,
    // Sub-attribute SQL refers to the element as e.v, so the ordered scan keeps that alias.
    firstOf: (s) =>
      `(SELECT ${s.sql} FROM jsonb_array_elements(${array}) WITH ORDINALITY e(v, n) ORDER BY (scim_attr(e.v, 'primary') = 'true'::jsonb) IS NOT TRUE, e.n LIMIT 1)`,
    elementPresent: jsonPresent('e.v'),
    sub: (name) => {
      const sd = subDef(def, name);
      if (!sd || sd.type === 'complex') throw unknown(`${def.name}.${name}`);
      return jsonScalar(`${def.name}.${sd.name}`, sd, attrOf('e.v', sd.name));
    },
    defaultSub: subDef(def, 'value') ? 'value' : undefined,
  };
}

const column = (name: string, type: ValueType, sql: string, o: Partial<Scalar> = {}): Scalar => ({
  name,
  type,
  caseExact: true,
  sql,
  present: o.notNull
    ? 'true'
    : type === 'string'
      ? `COALESCE(${sql} <> '', false)`
      : `${sql} IS NOT NULL`,
  ...o,
});

/** Membership rows seen from a user (`groups`) or a group (`members`): value, display and type. */
function membershipMulti(
  name: string,
  from: string,
  link: string,
  value: string,
  display: string,
  type: string,
  /** The order the resource lists these values in (the first one is what a sort uses). */
  listOrder: string,
): Multi {
  const subs = new Map<string, Scalar>([
    ['value', column(`${name}.value`, 'string', value, { notNull: true })],
    ['display', column(`${name}.display`, 'string', display, { caseExact: false })],
    ['type', column(`${name}.type`, 'string', type, { notNull: true, caseExact: false })],
  ]);
  return {
    name,
    from,
    link,
    elementPresent: 'true',
    sub: (s) => {
      const found = subs.get(s.toLowerCase());
      if (!found) throw unknown(`${name}.${s}`);
      return found;
    },
    defaultSub: 'value',
    firstOf: (s) => `(SELECT ${s.sql} FROM ${from} WHERE ${link} ORDER BY ${listOrder} LIMIT 1)`,
  };
}

/** The sub-attribute name under which `schemas` holds its own (simple) values; no filter can spell it. */
const SELF = '$self';

/**
 * `schemas`: the resource's schema URNs as shown (the stored array, else the core URN alone), so
 * `schemas eq "urn:...:enterprise:2.0:User"` (an RFC 7644 §3.4.2.2 example) finds the users that
 * list the extension. URNs compare case-insensitively, as everywhere else here. Only the URNs of
 * `known` (the directory's schema: core and extensions) count, as the projection shows only those:
 * the URN of an extension declaration deleted since stays stored, and must not match.
 */
function schemasMulti(alias: string, core: string, known: readonly string[]): Multi {
  for (const u of [core, ...known])
    if (!SAFE_NAME.test(u)) throw new Error(`unexpected schema URN: ${u}`);
  const j = attrOf(`${alias}.data::jsonb`, 'schemas');
  const array = `(CASE WHEN jsonb_typeof(${j}) = 'array' THEN ${j} ELSE '["${core}"]'::jsonb END)`;
  // The projection's test (declaredOnly): a string element is shown when its URN is known.
  const shown = `(jsonb_typeof(e.v) <> 'string' OR lower(e.v #>> '{}') IN (${known
    .map((u) => `'${u.toLowerCase()}'`)
    .join(', ')}))`;
  const value: Scalar = {
    name: 'schemas',
    type: 'string',
    caseExact: false,
    sql: `(CASE WHEN jsonb_typeof(e.v) = 'string' THEN e.v #>> '{}' END)`,
    present: jsonPresent('e.v'),
  };
  return {
    name: 'schemas',
    from: `jsonb_array_elements(${array}) e(v)`,
    link: shown,
    elementPresent: jsonPresent('e.v'),
    sub: (name) => {
      if (name === SELF) return value;
      throw unknown(`schemas.${name}`);
    },
    defaultSub: SELF,
    firstOf: (s) =>
      `(SELECT ${s.sql} FROM jsonb_array_elements(${array}) WITH ORDINALITY e(v, n) WHERE ${shown} ORDER BY e.n LIMIT 1)`,
  };
}

/** `schemas` of a resource type with this schema. */
const schemasTarget = (alias: string, schema: ResourceSchema): Target => ({
  kind: 'multi',
  m: schemasMulti(alias, schema.core, [schema.core, ...schema.extensions]),
});

const LIKE_SPECIAL = /[\\%_]/g;
export const likeEscape = (s: string): string => s.replace(LIKE_SPECIAL, (c) => `\\${c}`);
/** The LIKE pattern of `co` / `sw` / `ew`. */
export const likePattern = (op: string, v: string): string =>
  op === 'sw' ? `${likeEscape(v)}%` : op === 'ew' ? `%${likeEscape(v)}` : `%${likeEscape(v)}%`;

/** `emails.value` compared at the top level: the array column (GIN) and the trigram index on its joined text (both hold foldCase values). */
function emailsFast(op: string, value: string, b: SqlBuilder): string | undefined {
  const v = foldCase(value);
  if (op === 'eq')
    return `(u.emails_lower IS NOT NULL AND u.emails_lower @> ARRAY[${b.add(v)}::text])`;
  if (op !== 'co' && op !== 'sw' && op !== 'ew') return undefined;
  // The joined text narrows by trigrams; the element check is exact (a match may not span two values).
  return `(scim_joined(u.emails_lower) LIKE ${b.add(`%${likeEscape(v)}%`)} AND EXISTS (SELECT 1 FROM unnest(u.emails_lower) x WHERE x LIKE ${b.add(likePattern(op, v))}))`;
}

interface Resource {
  schema: ResourceSchema;
  alias: string;
  /** Attributes answered by columns or tables rather than the document. */
  special: ReadonlyMap<string, Target>;
}

const common = (a: string): [string, Target][] => [
  ['id', { kind: 'scalar', s: column('id', 'string', `${a}.id`, { notNull: true }) }],
  ['externalid', { kind: 'scalar', s: column('externalId', 'string', `${a}.external_id`) }],
  [
    'meta.created',
    {
      kind: 'scalar',
      s: column('meta.created', 'dateTime', `date_trunc('milliseconds', ${a}.created_at)`, {
        notNull: true,
      }),
    },
  ],
  [
    'meta.lastmodified',
    {
      kind: 'scalar',
      s: column('meta.lastModified', 'dateTime', `date_trunc('milliseconds', ${a}.updated_at)`, {
        notNull: true,
      }),
    },
  ],
];

const USERS: Resource = {
  schema: USER_SCHEMA,
  alias: 'u',
  special: new Map<string, Target>([
    ...common('u'),
    ['schemas', schemasTarget('u', USER_SCHEMA)],
    [
      'username',
      {
        kind: 'scalar',
        s: column('userName', 'string', 'u.user_name', {
          caseExact: false,
          lower: 'u.user_name_lower',
          notNull: true,
        }),
      },
    ],
    [
      'displayname',
      {
        kind: 'scalar',
        s: column('displayName', 'string', 'u.display_name', { caseExact: false }),
      },
    ],
    ['active', { kind: 'scalar', s: column('active', 'boolean', 'u.active', { notNull: true }) }],
    [
      'groups',
      {
        kind: 'multi',
        m: membershipMulti(
          'groups',
          'scim_memberships m JOIN scim_groups mg ON mg.id = m.group_id',
          'm.user_id = u.id',
          'm.group_id',
          'mg.display_name',
          `'direct'::text`,
          'mg.display_name_lower, mg.id',
        ),
      },
    ],
  ]),
};

const GROUPS: Resource = {
  schema: GROUP_SCHEMA,
  alias: 'g',
  special: new Map<string, Target>([
    ...common('g'),
    ['schemas', schemasTarget('g', GROUP_SCHEMA)],
    [
      'displayname',
      {
        kind: 'scalar',
        s: column('displayName', 'string', 'g.display_name', {
          caseExact: false,
          lower: 'g.display_name_lower',
          notNull: true,
        }),
      },
    ],
    [
      'members',
      {
        kind: 'multi',
        m: membershipMulti(
          'members',
          'scim_memberships m JOIN scim_users mu ON mu.id = m.user_id',
          'm.group_id = g.id',
          'm.user_id',
          'mu.display_name',
          `'User'::text`,
          'm.created_at, mu.id',
        ),
      },
    ],
  ]),
};

/** Attributes that exist but are never filterable. */
const REFUSED = new Set(['password']);

function resolve(res: Resource, ref: AttrRef): Target {
  const shown = `${ref.uri ? `${ref.uri}:` : ''}${ref.attr}${ref.sub ? `.${ref.sub}` : ''}`;
  const uri = (ref.uri ?? res.schema.core).toLowerCase();
  const defs = res.schema.byUri.get(uri);
  if (!defs) throw unknown(shown);
  const attr = ref.attr.toLowerCase();
  if (uri === res.schema.core.toLowerCase()) {
    if (REFUSED.has(attr))
      throw ScimError.invalidFilter(`"${ref.attr}" cannot be filtered or sorted by`);
    const special = res.special;
    const key = ref.sub ? `${attr}.${ref.sub.toLowerCase()}` : attr;
    const direct = special.get(key);
    if (direct) return direct;
    const parent = special.get(attr);
    if (parent?.kind === 'multi' && ref.sub) {
      parent.m.sub(ref.sub); // throws for an unknown sub-attribute
      return { kind: 'multi', m: { ...parent.m, defaultSub: ref.sub } };
    }
    if (parent || attr === 'meta') throw unknown(shown);
  }
  const def = defs.get(attr);
  if (!def) throw unknown(shown);
  const doc = `${res.alias}.data::jsonb`;
  const base = uri === res.schema.core.toLowerCase() ? doc : attrOf(doc, extensionName(res, uri));
  const t = jsonTarget(base, def, ref.sub, shown);
  if (
    t.kind === 'multi' &&
    def.name === 'emails' &&
    uri === res.schema.core.toLowerCase() &&
    t.m.defaultSub?.toLowerCase() === 'value'
  )
    return { kind: 'multi', m: { ...t.m, fast: emailsFast } };
  return t;
}

const extensionName = (res: Resource, uri: string): string =>
  res.schema.extensions.find((e) => e.toLowerCase() === uri) ?? uri;

/** A resource with the directory's schema (the built-in one plus its declared extensions). */
const withSchema = (res: Resource, schema: ResourceSchema | undefined): Resource =>
  schema === undefined || schema === res.schema
    ? res
    : {
        ...res,
        schema,
        special: new Map([...res.special, ['schemas', schemasTarget(res.alias, schema)]]),
      };

export const resolveUserAttr = (ref: AttrRef, schema?: ResourceSchema): Target =>
  resolve(withSchema(USERS, schema), ref);
export const resolveGroupAttr = (ref: AttrRef, schema?: ResourceSchema): Target =>
  resolve(withSchema(GROUPS, schema), ref);
