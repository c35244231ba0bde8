import type { FilterNode } from '../filter/filter-ast';
import { applyPatch } from '../patch/apply-patch';
import { jsonEqual } from '../patch/json-equal';
import { parsePatchPath } from '../patch/patch-path';
import type { PatchOperation } from '../patch/patch-request';
import { checkAwsGroupPatchAttr, checkAwsMembershipChanges } from '../profiles/aws-profile';
import { GROUP_SCHEMA, type ResourceSchema } from '../scim/attribute-defs';
import type { Profile } from '../scim/request-context';
import { defineKey } from '../scim/json-tree';
import { ScimError } from '../scim/scim-error';
import { isObject, type JsonObject, type JsonValue } from '../scim/schemas';
import { checkGroupDoc, memberIdsOf } from './group-document';

/** A membership change, applied to the membership table in request order. */
export type MemberAction =
  { kind: 'add'; ids: string[] } | { kind: 'remove'; ids: string[] } | { kind: 'removeAll' };

/** `value eq "a" or value eq "b"` → ['a', 'b']; other member filters cannot be applied without loading members. */
function idsFromFilter(f: FilterNode): string[] {
  if (f.kind === 'or') return [...idsFromFilter(f.left), ...idsFromFilter(f.right)];
  if (
    f.kind === 'compare' &&
    f.op === 'eq' &&
    f.path.attr.toLowerCase() === 'value' &&
    !f.path.sub &&
    typeof f.value === 'string'
  )
    return [f.value];
  throw ScimError.invalidFilter(
    'Member filters support only value eq "<id>" (optionally joined by or)',
  );
}

function memberActions(
  op: PatchOperation['op'],
  value: JsonValue | undefined,
  filter: FilterNode | undefined,
  sub: string | undefined,
  profile: Profile,
): MemberAction[] {
  if (sub) throw ScimError.invalidPath('Member sub-attributes cannot be patched');
  if (filter) {
    if (op !== 'remove') throw ScimError.invalidPath('Only remove supports a members value filter');
    return [{ kind: 'remove', ids: idsFromFilter(filter) }];
  }
  if (op === 'remove') {
    if (value === undefined || (Array.isArray(value) && value.length === 0)) {
      if (profile === 'aws')
        throw ScimError.invalidValue('Removing all members in one request is not supported');
      return [{ kind: 'removeAll' }];
    }
    return [{ kind: 'remove', ids: memberIdsOf(value) }];
  }
  const ids = value === null ? [] : memberIdsOf(value as JsonValue);
  if (op === 'replace') {
    if (profile === 'aws')
      throw ScimError.invalidValue('Replacing all members in one request is not supported');
    return [{ kind: 'removeAll' }, { kind: 'add', ids }];
  }
  return [{ kind: 'add', ids }];
}

/**
 * Splits a group PATCH into the new document (members excluded) and the membership actions, and
 * enforces the profile's limits before anything touches the database.
 */
export function planGroupPatch(
  doc: JsonObject,
  ops: PatchOperation[],
  profile: Profile,
  schema: ResourceSchema = GROUP_SCHEMA,
): { doc: JsonObject; actions: MemberAction[]; docChanged: boolean } {
  const docOps: PatchOperation[] = [];
  const actions: MemberAction[] = [];
  for (const o of ops) {
    if (o.path !== undefined) {
      const p = parsePatchPath(o.path, schema);
      if (profile === 'aws') checkAwsGroupPatchAttr(p.attr);
      if (p.attr.toLowerCase() === 'members')
        actions.push(...memberActions(o.op, o.value, p.filter, p.sub, profile));
      else docOps.push(o);
      continue;
    }
    if (!isObject(o.value))
      throw ScimError.invalidValue('An operation without a path needs an object value');
    const rest: JsonObject = {};
    for (const [k, v] of Object.entries(o.value)) {
      if (profile === 'aws' && k.toLowerCase() !== 'schemas') checkAwsGroupPatchAttr(k);
      if (k.toLowerCase() === 'members')
        actions.push(...memberActions(o.op, v, undefined, undefined, profile));
      else defineKey(rest, k, v); // not rest[k] = v: a `__proto__` key would set the prototype and vanish
    }
    if (Object.keys(rest).length) docOps.push({ ...o, value: rest });
  }
  if (profile === 'aws')
    checkAwsMembershipChanges(
      actions.reduce((n, a) => n + (a.kind === 'removeAll' ? 0 : a.ids.length), 0),
    );
  const next = docOps.length ? applyPatch(doc, docOps, schema) : doc;
  if (docOps.length) checkGroupDoc(next);
  // Ops that leave the document as it was are no change (no new version, no event).
  return { doc: next, actions, docChanged: docOps.length > 0 && !jsonEqual(next, doc) };
}
