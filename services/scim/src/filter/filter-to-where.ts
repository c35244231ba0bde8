import type { Prisma } from '../generated/prisma/client';
import type { Profile } from '../scim/request-context';
import { ScimError } from '../scim/scim-error';
import { URN } from '../scim/schemas';
import type { AttrRef, CompValue, FilterNode } from './filter-ast';

// Translates a parsed filter to a Prisma `where` for the attributes that are indexed. Anything else
// is refused with invalidFilter rather than evaluated wrongly.

type Field = 'userName' | 'externalId' | 'id' | 'emails' | 'groups' | 'displayName' | 'active' | 'members';

function fieldOf(p: AttrRef, core: string, allowed: Record<string, Field>): Field {
  if (p.uri && p.uri.toLowerCase() !== core.toLowerCase()) throw ScimError.invalidFilter(`Filtering on ${p.uri} is not supported`);
  const key = (p.sub ? `${p.attr}.${p.sub}` : p.attr).toLowerCase();
  const f = allowed[key];
  if (!f) throw ScimError.invalidFilter(`Filtering on "${p.sub ? `${p.attr}.${p.sub}` : p.attr}" is not supported`);
  return f;
}

function stringValue(v: CompValue, field: string): string {
  if (typeof v !== 'string') throw ScimError.invalidFilter(`${field} must be compared with a string`);
  return v;
}

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

function compile<W>(f: FilterNode, leaf: (field: Field, value: CompValue) => W, resolve: (p: AttrRef) => Field, inner?: (p: AttrRef, f: FilterNode) => W): { AND?: W[]; OR?: W[] } | W {
  switch (f.kind) {
    case 'and':
      return { AND: [compile(f.left, leaf, resolve, inner), compile(f.right, leaf, resolve, inner)] as W[] };
    case 'or':
      return { OR: [compile(f.left, leaf, resolve, inner), compile(f.right, leaf, resolve, inner)] as W[] };
    case 'compare':
      if (f.op !== 'eq') throw ScimError.invalidFilter(`The "${f.op}" operator is not supported; use eq`);
      return leaf(resolve(f.path), f.value);
    case 'valuePath':
      if (!inner) throw ScimError.invalidFilter('Value filters are not supported here');
      return inner(f.path, f.filter);
    default:
      throw ScimError.invalidFilter(`"${f.kind}" is not supported`);
  }
}

const USER_FIELDS: Record<string, Field> = {
  username: 'userName',
  externalid: 'externalId',
  id: 'id',
  emails: 'emails',
  'emails.value': 'emails',
  groups: 'groups',
  'groups.value': 'groups',
  displayname: 'displayName',
  active: 'active',
};

export function userWhere(f: FilterNode, profile: Profile): Prisma.ScimUserWhereInput {
  checkProfile(f, profile);
  const leaf = (field: Field, v: CompValue): Prisma.ScimUserWhereInput => {
    switch (field) {
      case 'active':
        if (typeof v !== 'boolean') throw ScimError.invalidFilter('active must be compared with true or false');
        return { active: v };
      case 'userName':
        return { userNameLower: stringValue(v, 'userName').toLowerCase() };
      case 'externalId':
        return { externalId: stringValue(v, 'externalId') };
      case 'id':
        return { id: stringValue(v, 'id') };
      case 'emails':
        return { emailsLower: { has: stringValue(v, 'emails.value').toLowerCase() } };
      case 'groups':
        return { memberships: { some: { groupId: stringValue(v, 'groups.value') } } };
      case 'displayName':
        return { displayName: { equals: stringValue(v, 'displayName'), mode: 'insensitive' } };
      default:
        throw ScimError.invalidFilter(`Filtering on ${field} is not supported`);
    }
  };
  const inner = (p: AttrRef, sub: FilterNode): Prisma.ScimUserWhereInput => {
    const attr = p.attr.toLowerCase();
    if (attr !== 'emails' && attr !== 'groups') throw ScimError.invalidFilter(`Value filters on ${p.attr} are not supported`);
    return compile(sub, leaf, (s) => fieldOf({ attr: `${p.attr}`, sub: s.attr }, URN.user, USER_FIELDS)) as Prisma.ScimUserWhereInput;
  };
  return compile(f, leaf, (p) => fieldOf(p, URN.user, USER_FIELDS), inner) as Prisma.ScimUserWhereInput;
}

const GROUP_FIELDS: Record<string, Field> = {
  displayname: 'displayName',
  externalid: 'externalId',
  id: 'id',
  members: 'members',
  'members.value': 'members',
};

export function groupWhere(f: FilterNode, profile: Profile): Prisma.ScimGroupWhereInput {
  checkProfile(f, profile);
  const leaf = (field: Field, v: CompValue): Prisma.ScimGroupWhereInput => {
    switch (field) {
      case 'displayName':
        return { displayNameLower: stringValue(v, 'displayName').toLowerCase() };
      case 'externalId':
        return { externalId: stringValue(v, 'externalId') };
      case 'id':
        return { id: stringValue(v, 'id') };
      case 'members':
        return { memberships: { some: { userId: stringValue(v, 'members.value') } } };
      default:
        throw ScimError.invalidFilter(`Filtering on ${field} is not supported`);
    }
  };
  const inner = (p: AttrRef, sub: FilterNode): Prisma.ScimGroupWhereInput => {
    if (p.attr.toLowerCase() !== 'members') throw ScimError.invalidFilter(`Value filters on ${p.attr} are not supported`);
    return compile(sub, leaf, (s) => fieldOf({ attr: 'members', sub: s.attr }, URN.group, GROUP_FIELDS)) as Prisma.ScimGroupWhereInput;
  };
  return compile(f, leaf, (p) => fieldOf(p, URN.group, GROUP_FIELDS), inner) as Prisma.ScimGroupWhereInput;
}
