import { foldCase } from '../filter/case-fold';
import { deleteCI, getCI } from '../scim/json-ci';
import { assertStorableText, cloneJson } from '../scim/json-tree';
import { ScimError } from '../scim/scim-error';
import { isObject, URN, type JsonObject, type JsonValue } from '../scim/schemas';

/** A group document without members (they live in their own table) and the member ids sent with it. */
export function splitGroup(body: unknown): { doc: JsonObject; memberIds: string[] | undefined } {
  if (!isObject(body)) throw ScimError.invalidSyntax('Request body must be a Group object');
  assertStorableText(body);
  const doc = cloneJson(body);
  const members = getCI(doc, 'members');
  for (const k of ['id', 'meta', 'members']) deleteCI(doc, k);
  checkGroupDoc(doc);
  doc.schemas = [URN.group];
  return {
    doc,
    memberIds: members === undefined || members === null ? undefined : memberIdsOf(members),
  };
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
