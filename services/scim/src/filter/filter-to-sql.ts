import type { SqlBuilder } from '../db/sql';
import type { Profile } from '../scim/request-context';
import { ScimError } from '../scim/scim-error';
import { URN } from '../scim/schemas';
import type { AttrRef, CompValue, FilterNode } from './filter-ast';

// Translates a parsed filter to SQL over the indexed columns (parameters only, never spliced text).
// Anything else is refused with invalidFilter rather than evaluated wrongly. The leaf tables are
// Maps: they are keyed by the client's attribute names, and a plain object would answer
// `constructor` from its prototype.

type Leaf = (b: SqlBuilder, v: CompValue) => string;

const str = (v: CompValue, what: string): string => {
  if (typeof v !== 'string') throw ScimError.invalidFilter(`${what} must be compared with a string`);
  return v;
};

const userEmails: Leaf = (b, v) => `u.emails_lower @> ARRAY[${b.add(str(v, 'emails.value').toLowerCase())}]::text[]`;
const userGroups: Leaf = (b, v) => `EXISTS (SELECT 1 FROM scim_memberships m WHERE m.user_id = u.id AND m.group_id = ${b.add(str(v, 'groups.value'))})`;

const USER_LEAVES = new Map<string, Leaf>(Object.entries({
  username: (b, v) => `u.user_name_lower = ${b.add(str(v, 'userName').toLowerCase())}`,
  externalid: (b, v) => `u.external_id = ${b.add(str(v, 'externalId'))}`,
  id: (b, v) => `u.id = ${b.add(str(v, 'id'))}`,
  emails: userEmails,
  'emails.value': userEmails,
  groups: userGroups,
  'groups.value': userGroups,
  displayname: (b, v) => `lower(u.display_name) = ${b.add(str(v, 'displayName').toLowerCase())}`,
  active: (b, v) => {
    if (typeof v !== 'boolean') throw ScimError.invalidFilter('active must be compared with true or false');
    return `u.active = ${b.add(v)}`;
  },
} satisfies Record<string, Leaf>));

const groupMembers: Leaf = (b, v) => `EXISTS (SELECT 1 FROM scim_memberships m WHERE m.group_id = g.id AND m.user_id = ${b.add(str(v, 'members.value'))})`;

const GROUP_LEAVES = new Map<string, Leaf>(Object.entries({
  displayname: (b, v) => `g.display_name_lower = ${b.add(str(v, 'displayName').toLowerCase())}`,
  externalid: (b, v) => `g.external_id = ${b.add(str(v, 'externalId'))}`,
  id: (b, v) => `g.id = ${b.add(str(v, 'id'))}`,
  members: groupMembers,
  'members.value': groupMembers,
} satisfies Record<string, Leaf>));

function checkProfile(f: FilterNode, profile: Profile): void {
  if (profile !== 'aws') return;
  // IAM Identity Center: only `eq` (joined by `and`) with quoted values.
  if (f.kind === 'and') {
    checkProfile(f.left, profile);
    checkProfile(f.right, profile);
    return;
  }
  if (f.kind !== 'compare' || f.op !== 'eq' || !f.quoted) throw ScimError.invalidFilter('Only eq filters with quoted values (joined by and) are supported');
}

function leafOf(p: AttrRef, core: string, leaves: ReadonlyMap<string, Leaf>): Leaf {
  if (p.uri && p.uri.toLowerCase() !== core.toLowerCase()) throw ScimError.invalidFilter(`Filtering on ${p.uri} is not supported`);
  const name = p.sub ? `${p.attr}.${p.sub}` : p.attr;
  const leaf = leaves.get(name.toLowerCase());
  if (!leaf) throw ScimError.invalidFilter(`Filtering on "${name}" is not supported`);
  return leaf;
}

function compile(f: FilterNode, b: SqlBuilder, core: string, leaves: ReadonlyMap<string, Leaf>, valuePaths: string[], prefix?: string): string {
  switch (f.kind) {
    case 'and':
      return `(${compile(f.left, b, core, leaves, valuePaths, prefix)} AND ${compile(f.right, b, core, leaves, valuePaths, prefix)})`;
    case 'or':
      return `(${compile(f.left, b, core, leaves, valuePaths, prefix)} OR ${compile(f.right, b, core, leaves, valuePaths, prefix)})`;
    case 'compare': {
      if (f.op !== 'eq') throw ScimError.invalidFilter(`The "${f.op}" operator is not supported; use eq`);
      const ref = prefix ? { attr: prefix, sub: f.path.attr } : f.path;
      if (prefix && f.path.sub) throw ScimError.invalidFilter('Invalid attribute in value filter');
      return leafOf(ref, core, leaves)(b, f.value);
    }
    case 'valuePath':
      if (!valuePaths.includes(f.path.attr.toLowerCase())) throw ScimError.invalidFilter(`Value filters on ${f.path.attr} are not supported`);
      return compile(f.filter, b, core, leaves, valuePaths, f.path.attr);
    default:
      throw ScimError.invalidFilter(`"${f.kind}" is not supported`);
  }
}

/** SQL condition over `scim_users u`. */
export function userFilterSql(f: FilterNode, profile: Profile, b: SqlBuilder): string {
  checkProfile(f, profile);
  return compile(f, b, URN.user, USER_LEAVES, ['emails', 'groups']);
}

/** SQL condition over `scim_groups g`. */
export function groupFilterSql(f: FilterNode, profile: Profile, b: SqlBuilder): string {
  checkProfile(f, profile);
  return compile(f, b, URN.group, GROUP_LEAVES, ['members']);
}
