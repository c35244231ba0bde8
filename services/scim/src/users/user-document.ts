import { foldCase } from '../filter/case-fold';
import { deleteCI, getCI, keyCI } from '../scim/json-ci';
import { assertStorableText, cloneJson } from '../scim/json-tree';
import { ScimError } from '../scim/scim-error';
import { isObject, URN, type JsonObject, type JsonValue } from '../scim/schemas';

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

const MULTI = [
  'emails',
  'phoneNumbers',
  'ims',
  'photos',
  'addresses',
  'entitlements',
  'roles',
  'x509Certificates',
];

/** Entra sends booleans as "True"/"False" in PATCH; anything else non-boolean is refused. */
export function toBoolean(v: JsonValue | undefined, what: string): boolean | undefined {
  if (v === undefined || typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const l = v.trim().toLowerCase();
    if (l === 'true') return true;
    if (l === 'false') return false;
  }
  throw ScimError.invalidValue(`${what} must be a boolean`);
}

/**
 * Shapes an incoming or patched user document: drops server-owned attributes (id, meta, groups),
 * turns string booleans into booleans, and checks the few things storage depends on. Everything
 * else is kept exactly as sent.
 */
export function normaliseUser(input: JsonObject): JsonObject {
  assertStorableText(input);
  const doc = cloneJson(input);
  // Server-owned (id, meta, groups), and password: write-only, and nothing here signs anyone
  // in (changePassword is not supported), so it is never stored.
  for (const k of ['id', 'meta', 'groups', 'password']) deleteCI(doc, k);
  const userName = getCI(doc, 'userName');
  if (typeof userName !== 'string' || userName.trim() === '')
    throw ScimError.invalidValue('userName is required and must be a non-empty string');
  if (userName.length > 512) throw ScimError.invalidValue('userName is too long');
  const ext = getCI(doc, 'externalId');
  if (ext !== undefined && ext !== null && typeof ext !== 'string')
    throw ScimError.invalidValue('externalId must be a string');
  if (typeof ext === 'string' && ext.length > 512)
    throw ScimError.invalidValue('externalId is too long');
  const dn = getCI(doc, 'displayName');
  if (dn !== undefined && dn !== null && typeof dn !== 'string')
    throw ScimError.invalidValue('displayName must be a string');
  const activeKey = keyCI(doc, 'active');
  if (activeKey) {
    const a = doc[activeKey];
    if (a === null) delete doc[activeKey];
    else doc[activeKey] = toBoolean(a, 'active') as boolean;
  }
  for (const m of MULTI) {
    const k = keyCI(doc, m);
    if (!k) continue;
    const arr = doc[k];
    if (arr === null) {
      delete doc[k];
      continue;
    }
    if (!Array.isArray(arr)) throw ScimError.invalidValue(`${m} must be an array`);
    for (const el of arr) {
      if (!isObject(el)) continue;
      const value = getCI(el, 'value');
      if (m === 'emails' && typeof value === 'string' && value.length > 512)
        throw ScimError.invalidValue('An email value is too long');
      const pk = keyCI(el, 'primary');
      if (pk) el[pk] = toBoolean(el[pk], `${m}.primary`) as boolean;
    }
  }
  // A null extension is an absent one (RFC 7643 §2.5 "unassigned"); anything else but an object is refused.
  const entKey = keyCI(doc, URN.enterprise);
  if (entKey !== undefined && doc[entKey] === null) delete doc[entKey];
  else if (entKey !== undefined && !isObject(doc[entKey]))
    throw ScimError.invalidValue(`${URN.enterprise} must be an object`);
  const name = getCI(doc, 'name');
  if (name !== undefined && name !== null && !isObject(name))
    throw ScimError.invalidValue('name must be an object');
  const schemas = Array.isArray(doc.schemas)
    ? doc.schemas.filter((s): s is string => typeof s === 'string')
    : [];
  const want = [URN.user, ...(keyCI(doc, URN.enterprise) ? [URN.enterprise] : [])];
  for (const w of want)
    if (!schemas.some((s) => s.toLowerCase() === w.toLowerCase())) schemas.push(w);
  doc.schemas = schemas;
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
