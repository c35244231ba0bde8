import { foldCase } from '../filter/case-fold';
import { parsePatchPath } from '../patch/patch-path';
import type { PatchOperation } from '../patch/patch-request';
import { GROUP_SCHEMA, type ResourceSchema } from '../scim/attribute-defs';
import { deleteCI, getCI } from '../scim/json-ci';
import { assertStorableText } from '../scim/json-tree';
import { ScimError } from '../scim/scim-error';
import { isObject, URN, type JsonObject, type JsonValue } from '../scim/schemas';
import { checkElement, checkResource } from '../scim/write-schema';

/**
 * A group document without members (they live in their own table) and the member ids sent with it.
 * The whole body, members included, is checked against the advertised schema first (checkResource).
 */
export function splitGroup(
  body: unknown,
  schema: ResourceSchema = GROUP_SCHEMA,
): { doc: JsonObject; memberIds: string[] | undefined } {
  if (!isObject(body)) throw ScimError.invalidSyntax('Request body must be a Group object');
  assertStorableText(body);
  const doc = checkResource(schema, body);
  const members = getCI(doc, 'members');
  deleteCI(doc, 'members');
  checkGroupDoc(doc);
  return { doc, memberIds: members === undefined ? undefined : memberIdsOf(members) };
}

/** The document a group PATCH produced (members excluded), checked against the stored one. */
export function normaliseGroupPatch(
  doc: JsonObject,
  before: JsonObject,
  schema: ResourceSchema = GROUP_SCHEMA,
): JsonObject {
  const out = checkResource(schema, doc, before);
  checkGroupDoc(out);
  return out;
}

const MEMBERS = GROUP_SCHEMA.byUri.get(URN.group.toLowerCase())?.get('members');

/**
 * Member values of a group PATCH (they go to the membership table, not the document): each member
 * object is checked like a member in a POST (unknown sub-attributes, wrong types). Anything but an
 * object is left to memberIdsOf, which names the shape expected.
 */
export function checkMemberValues(
  ops: PatchOperation[],
  schema: ResourceSchema = GROUP_SCHEMA,
): void {
  if (!MEMBERS) return;
  const check = (v: JsonValue | undefined) => {
    if (v === undefined || v === null) return;
    (Array.isArray(v) ? v : [v]).forEach((el, i) => {
      if (isObject(el)) checkElement(MEMBERS, el, `members[${i}]`);
    });
  };
  for (const o of ops) {
    if (o.path === undefined) {
      if (isObject(o.value)) check(getCI(o.value, 'members'));
      continue;
    }
    const p = parsePatchPath(o.path, schema);
    if (p.attr.toLowerCase() === 'members' && !p.filter && !p.sub) check(o.value);
  }
}

export function checkGroupDoc(doc: JsonObject): void {
  const dn = getCI(doc, 'displayName');
  if (typeof dn !== 'string' || dn.trim() === '')
    throw ScimError.invalidValue('displayName is required and must be a non-empty string');
  if (dn.length > 512) throw ScimError.invalidValue('displayName is too long');
  assertStorableText(doc);
  const ext = getCI(doc, 'externalId');
  if (ext !== undefined && ext !== null && typeof ext !== 'string')
    throw ScimError.invalidValue('externalId must be a string');
  if (typeof ext === 'string' && ext.length > 512)
    throw ScimError.invalidValue('externalId is too long');
}

/** `[{ value: id }, ...]` (or a single object) → ids, de-duplicated. */
export function memberIdsOf(v: JsonValue): string[] {
  const items = Array.isArray(v) ? v : [v];
  const ids = items.map((m) => {
    // Entra (and RFC 7643 §4.2) send member objects; a bare id is refused with the shape expected.
    if (!isObject(m))
      throw ScimError.invalidValue(
        'Members must be objects such as { "value": "<user id>" }, not plain strings',
      );
    const id = getCI(m, 'value');
    if (typeof id !== 'string' || id === '' || id.length > 64 || id.includes('\u0000'))
      throw ScimError.invalidValue('Each member needs a valid string value');
    return id;
  });
  return [...new Set(ids)];
}

export function groupColumns(doc: JsonObject): {
  displayName: string;
  displayNameLower: string;
  externalId: string | null;
} {
  const displayName = getCI(doc, 'displayName') as string;
  const ext = getCI(doc, 'externalId');
  return {
    displayName,
    // foldCase: the case-insensitive uniqueness key and what filters compare (scim_fold in SQL).
    displayNameLower: foldCase(displayName),
    externalId: typeof ext === 'string' ? ext : null,
  };
}
