import { foldCase } from '../filter/case-fold';
import { USER_SCHEMA, type ResourceSchema } from '../scim/attribute-defs';
import { deleteCI, getCI } from '../scim/json-ci';
import { assertStorableText } from '../scim/json-tree';
import { ScimError } from '../scim/scim-error';
import { isObject, type JsonObject } from '../scim/schemas';
import { checkResource } from '../scim/write-schema';

/**
 * Columns extracted from a user document for filtering and uniqueness; the `*Lower` ones are
 * foldCase values, the fold SQL's scim_fold computes too (filters compare against them).
 */
export interface UserColumns {
  userName: string;
  userNameLower: string;
  externalId: string | null;
  displayName: string | null;
  active: boolean;
  emailsLower: string[];
}

/**
 * Shapes an incoming or patched user document for storage: checked against the advertised schema
 * (checkResource: types, unknown attributes, `schemas`; readOnly `id`, `meta`, `groups` dropped;
 * string booleans turned into booleans), then the few things storage depends on. `before` is the
 * stored document a PATCH started from (see checkResource).
 */
export function normaliseUser(
  input: JsonObject,
  before?: JsonObject,
  schema: ResourceSchema = USER_SCHEMA,
): JsonObject {
  assertStorableText(input);
  const doc = checkResource(schema, input, before);
  // password: write-only, and nothing here signs anyone in (changePassword is not supported), so
  // it is never stored; its type was checked like any attribute's.
  deleteCI(doc, 'password');
  const userName = getCI(doc, 'userName');
  if (typeof userName !== 'string' || userName.trim() === '')
    throw ScimError.invalidValue('userName is required and must be a non-empty string');
  if (userName.length > 512) throw ScimError.invalidValue('userName is too long');
  const ext = getCI(doc, 'externalId');
  if (typeof ext === 'string' && ext.length > 512)
    throw ScimError.invalidValue('externalId is too long');
  const emails = getCI(doc, 'emails');
  if (Array.isArray(emails))
    for (const el of emails) {
      const value = isObject(el) ? getCI(el, 'value') : undefined;
      if (typeof value === 'string' && value.length > 512)
        throw ScimError.invalidValue('An email value is too long');
    }
  return doc;
}

export function userColumns(doc: JsonObject): UserColumns {
  const userName = getCI(doc, 'userName') as string;
  const ext = getCI(doc, 'externalId');
  const dn = getCI(doc, 'displayName');
  const emails = getCI(doc, 'emails');
  return {
    userName,
    userNameLower: foldCase(userName),
    externalId: typeof ext === 'string' ? ext : null,
    displayName: typeof dn === 'string' ? dn : null,
    active: getCI(doc, 'active') !== false,
    emailsLower: Array.isArray(emails)
      ? emails.flatMap((e) => {
          const v = isObject(e) ? getCI(e, 'value') : undefined;
          return typeof v === 'string' ? [foldCase(v)] : [];
        })
      : [],
  };
}
