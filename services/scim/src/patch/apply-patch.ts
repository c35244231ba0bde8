import { isDeepStrictEqual } from 'node:util';
import type { FilterNode } from '../filter/filter-ast';
import { matches } from '../filter/filter-eval';
import { subDef, type AttrDef, type ResourceSchema } from '../scim/attribute-defs';
import { deleteCI, getCI, setCI } from '../scim/json-ci';
import { cloneJson, defineKey } from '../scim/json-tree';
import { ScimError } from '../scim/scim-error';
import { isObject, type JsonObject, type JsonValue } from '../scim/schemas';
import { parsePatchPath, type PatchPath } from './patch-path';
import type { PatchOpName, PatchOperation } from './patch-request';

// Applies PATCH operations to a resource document in memory (the caller persists the result, so a
// failing operation leaves nothing half-applied). Lenient where Entra relies on it: path-less values
// with dotted keys, manager given as a bare id, value-filter targets created on add/replace.

const RESERVED = new Set(['id', 'meta']);

function container(
  doc: JsonObject,
  schema: ResourceSchema,
  uri: string,
  create: boolean,
): JsonObject | undefined {
  if (uri === schema.core.toLowerCase()) return doc;
  const canonical = schema.extensions.find((e) => e.toLowerCase() === uri) ?? uri;
  let ext = getCI(doc, canonical);
  if (!isObject(ext)) {
    if (!create) return undefined;
    ext = {};
    setCI(doc, canonical, ext);
    const schemas = Array.isArray(doc.schemas) ? doc.schemas : [];
    if (!schemas.some((x) => typeof x === 'string' && x.toLowerCase() === uri))
      doc.schemas = [...schemas, canonical];
  }
  return ext;
}

/**
 * Entra sends the manager as a bare id (or `[{value}]`); the schema wants `{ value }`. An empty id
 * is null: Entra and Microsoft's SCIM validator remove the manager by replacing it with "".
 */
function normaliseComplex(def: AttrDef | undefined, value: JsonValue): JsonValue {
  if (def?.name === 'manager') {
    if (value === '') return null;
    if (typeof value === 'string') return { value };
    if (isObject(value) && Object.keys(value).length === 1 && getCI(value, 'value') === '')
      return null;
    const [only] = Array.isArray(value) && value.length === 1 ? value : [];
    if (only !== undefined) return normaliseComplex(def, only);
  }
  // Entra without aadOptscim062020 wraps a single-valued simple value: `"value": [{"value": "Babs"}]`.
  if (def && !def.multi && def.type !== 'complex' && Array.isArray(value) && value.length === 1) {
    const [only] = value;
    if (isObject(only) && Object.keys(only).length === 1 && getCI(only, 'value') !== undefined)
      return getCI(only, 'value') ?? value;
  }
  return value;
}

/** A new element built from the equalities of a value filter: `type eq "work"` → { type: "work" }. */
function elementFromFilter(f: FilterNode, def: AttrDef | undefined): JsonObject | undefined {
  if (f.kind === 'compare' && f.op === 'eq' && !f.path.sub) {
    return { [subDef(def, f.path.attr)?.name ?? f.path.attr]: f.value };
  }
  if (f.kind === 'and') {
    const l = elementFromFilter(f.left, def);
    const r = elementFromFilter(f.right, def);
    return l && r ? { ...l, ...r } : undefined;
  }
  return undefined;
}

// isDeepStrictEqual recurses only as deep as both sides match, and one side is always a request value
// (bounded by the body parser's depth limit), so a deep stored document cannot overflow it.
const sameElement = (a: JsonValue, b: JsonValue): boolean => {
  if (isObject(a) && isObject(b)) {
    const av = getCI(a, 'value');
    const bv = getCI(b, 'value');
    if (av !== undefined && bv !== undefined)
      return isDeepStrictEqual(av, bv) && isDeepStrictEqual(getCI(a, 'type'), getCI(b, 'type'));
  }
  return isDeepStrictEqual(a, b);
};

/**
 * What is left of a multi-valued element after a sub-attribute remove, when nothing but its
 * qualifiers (`type`, `primary`) remain: `phoneNumbers[type eq "mobile"].value` removed leaves
 * `{"type": "mobile"}`, which describes no value, so the element goes with it.
 */
const QUALIFIERS = new Set(['type', 'primary']);
const isEmptyElement = (el: JsonValue): boolean =>
  isObject(el) && Object.keys(el).every((k) => QUALIFIERS.has(k.toLowerCase()));

/** Sets `name` to the elements that still hold a value, or removes it when none does. */
function keepMeaningful(target: JsonObject, name: string, arr: JsonValue[]): void {
  const kept = arr.filter((el) => !isEmptyElement(el));
  if (kept.length) setCI(target, name, kept);
  else deleteCI(target, name);
}

function mergeInto(target: JsonObject, value: JsonObject, def: AttrDef | undefined): void {
  for (const [k, v] of Object.entries(value)) setCI(target, k, v, subDef(def, k)?.name ?? k);
}

/** `primary` as stored (a boolean) or as Entra sends it ("True"), any case. */
const isPrimary = (el: JsonValue): boolean => {
  if (!isObject(el)) return false;
  const v = getCI(el, 'primary');
  return v === true || (typeof v === 'string' && v.trim().toLowerCase() === 'true');
};

/** The elements of the multi-valued attribute `p` names that are primary now (by identity). */
function primaries(doc: JsonObject, schema: ResourceSchema, p: PatchPath): Set<JsonValue> {
  const target = container(doc, schema, p.uri, false);
  const arr = target ? getCI(target, p.attr) : undefined;
  return new Set(Array.isArray(arr) ? arr.filter(isPrimary) : []);
}

/**
 * RFC 7644 §3.5.2: a value added or replaced with primary true makes the others false, since RFC
 * 7643 §2.4 allows primary true at most once. Elements are compared by identity with those primary
 * before the operation, so any array of objects (known attribute or not) is covered, and a
 * document already holding two primaries is healed by the next one set, never refused for it.
 */
function keepOnePrimary(
  doc: JsonObject,
  schema: ResourceSchema,
  p: PatchPath,
  before: Set<JsonValue>,
): void {
  const target = container(doc, schema, p.uri, false);
  const arr = target ? getCI(target, p.attr) : undefined;
  if (!Array.isArray(arr)) return;
  const set = arr.filter((el) => isPrimary(el) && !before.has(el));
  if (set.length === 0) return;
  if (set.length > 1)
    throw ScimError.invalidValue(
      `primary can be true on only one value of ${p.attr} (RFC 7643 §2.4)`,
    );
  for (const el of arr)
    if (el !== set[0] && isPrimary(el)) setCI(el as JsonObject, 'primary', false);
}

function applyAt(
  doc: JsonObject,
  schema: ResourceSchema,
  p: PatchPath,
  op: PatchOpName,
  value: JsonValue | undefined,
): void {
  if (p.attr === '' || op === 'remove') {
    applyAttr(doc, schema, p, op, value);
    return;
  }
  const before = primaries(doc, schema, p);
  applyAttr(doc, schema, p, op, value);
  keepOnePrimary(doc, schema, p, before);
}

function applyAttr(
  doc: JsonObject,
  schema: ResourceSchema,
  p: PatchPath,
  op: PatchOpName,
  value: JsonValue | undefined,
): void {
  const defs = schema.byUri.get(p.uri);
  if (p.attr === '') {
    // The whole extension object; null clears it, as it does any attribute.
    if (op === 'remove' || value === null) {
      const canonical = schema.extensions.find((e) => e.toLowerCase() === p.uri) ?? p.uri;
      deleteCI(doc, canonical);
      return;
    }
    if (!isObject(value)) throw ScimError.invalidValue('An extension value must be an object');
    const canonical = schema.extensions.find((e) => e.toLowerCase() === p.uri) ?? p.uri;
    for (const [k, v] of Object.entries(value)) {
      // Clients copy the extension from a resource representation, `schemas` included: not an attribute.
      if (k.toLowerCase() === 'schemas') continue;
      applyAt(doc, schema, parsePatchPath(`${canonical}:${k}`, schema), op, v);
    }
    return;
  }
  const def = defs?.get(p.attr.toLowerCase());
  if (p.uri === schema.core.toLowerCase() && RESERVED.has(p.attr.toLowerCase()))
    throw ScimError.mutability(`${p.attr} is read-only`);
  if (p.attr.toLowerCase() === 'schemas') throw ScimError.mutability('schemas cannot be patched');
  if (def?.mutability === 'readOnly') throw ScimError.mutability(`${def.name} is read-only`);
  const name = def?.name ?? p.attr;
  // Clearing (remove, or a null value) an attribute of an absent extension must not create it.
  // `manager.value` replaced by "" (or null) removes the manager, as replacing `manager` by "" does:
  // a manager without an id is no manager.
  const managerCleared =
    op !== 'remove' &&
    def?.name === 'manager' &&
    !p.filter &&
    p.sub?.toLowerCase() === 'value' &&
    (value === '' || value === null);
  const clears =
    value === null ||
    managerCleared ||
    (!p.sub && !p.filter && value !== undefined && normaliseComplex(def, value) === null);
  const target = container(doc, schema, p.uri, op !== 'remove' && !clears);
  if (!target) return;
  const existing = getCI(target, name);
  const multi = def ? !!def.multi : Array.isArray(existing) || (!p.filter && Array.isArray(value));
  // `title.foo`: a simple attribute has no sub-attributes (RFC 7644 §3.5.2 invalidPath); going on
  // would turn the stored string into an object.
  if (
    p.sub &&
    (def
      ? def.type !== 'complex'
      : existing !== undefined &&
        existing !== null &&
        !isObject(existing) &&
        !Array.isArray(existing))
  )
    throw ScimError.invalidPath(`${name} is a simple attribute: it has no sub-attribute ${p.sub}`);

  if (p.filter) {
    if (!multi) throw ScimError.invalidPath(`${name} is not multi-valued`);
    const arr: JsonValue[] = Array.isArray(existing) ? [...existing] : [];
    const hit = arr
      .map((el, i) => (matches(el, p.filter as FilterNode) ? i : -1))
      .filter((i) => i >= 0);
    if (op === 'remove') {
      if (p.sub) for (const i of hit) if (isObject(arr[i])) deleteCI(arr[i] as JsonObject, p.sub);
      keepMeaningful(target, name, p.sub ? arr : arr.filter((_, i) => !hit.includes(i)));
      return;
    }
    if (hit.length === 0) {
      const base = elementFromFilter(p.filter, def);
      if (!base) throw ScimError.noTarget(`No ${name} element matches the filter`);
      if (p.sub) defineKey(base, subDef(def, p.sub)?.name ?? p.sub, value as JsonValue);
      else if (isObject(value)) mergeInto(base, value, def);
      else throw ScimError.invalidValue(`A value for ${name}[...] must be an object`);
      arr.push(base);
    } else {
      for (const i of hit) {
        const el = arr[i];
        if (!isObject(el)) continue;
        if (p.sub) setCI(el, p.sub, value as JsonValue, subDef(def, p.sub)?.name);
        else if (!isObject(value))
          throw ScimError.invalidValue(`A value for ${name}[...] must be an object`);
        // add and replace alike (RFC 7644 §3.5.2.3): sub-attributes not given are left unchanged.
        else mergeInto(el, value, def);
      }
    }
    setCI(target, name, arr, name);
    return;
  }

  if (p.sub) {
    const subName = subDef(def, p.sub)?.name ?? p.sub;
    if (multi) {
      // `emails.value` without a filter addresses every element.
      if (!Array.isArray(existing)) {
        if (op === 'remove') return;
        throw ScimError.noTarget(`${name} has no elements`);
      }
      for (const el of existing) {
        if (!isObject(el)) continue;
        if (op === 'remove') deleteCI(el, subName);
        else setCI(el, subName, value as JsonValue, subName);
      }
      if (op === 'remove') keepMeaningful(target, name, existing);
      return;
    }
    if (managerCleared) {
      deleteCI(target, name);
      return;
    }
    if (op === 'remove') {
      if (isObject(existing)) {
        deleteCI(existing, subName);
        if (Object.keys(existing).length === 0) deleteCI(target, name);
      }
      return;
    }
    const obj = isObject(existing) ? existing : {};
    setCI(obj, subName, value as JsonValue, subName);
    setCI(target, name, obj, name);
    return;
  }

  if (op === 'remove') {
    if (multi && value !== undefined && Array.isArray(existing)) {
      const drop = Array.isArray(value) ? value : [value];
      const kept = existing.filter((el) => !drop.some((d) => sameElement(el, d)));
      if (kept.length) setCI(target, name, kept);
      else deleteCI(target, name);
    } else {
      deleteCI(target, name);
    }
    return;
  }
  if (clears) {
    // Entra clears an attribute by replacing it with null / "" (the manager with "").
    deleteCI(target, name);
    return;
  }
  if (value === undefined) throw ScimError.invalidValue(`${op} needs a value`);
  if (multi) {
    const items: JsonValue[] = Array.isArray(value) ? value : [value];
    if (op === 'replace' || !Array.isArray(existing)) {
      setCI(target, name, items, name);
    } else {
      const next = [...existing];
      for (const it of items) {
        const same = next.find((e) => sameElement(e, it));
        if (same === undefined) next.push(it);
        // The value is there already: what the add says about it (primary, display) still applies.
        else if (isObject(same) && isObject(it)) mergeInto(same, it, def);
      }
      setCI(target, name, next, name);
    }
    return;
  }
  const v = normaliseComplex(def, value as JsonValue);
  if (isObject(v) && isObject(existing) && (def?.type === 'complex' || def === undefined)) {
    // RFC 7644 §3.5.2.3: sub-attributes not given are left unchanged.
    const merged = { ...existing };
    mergeInto(merged, v, def);
    setCI(target, name, merged, name);
    return;
  }
  if (isObject(v) && def?.subs) {
    const fresh: JsonObject = {};
    mergeInto(fresh, v, def);
    setCI(target, name, fresh, name);
    return;
  }
  setCI(target, name, v, name);
}

function applyPathless(
  doc: JsonObject,
  schema: ResourceSchema,
  op: PatchOpName,
  value: JsonValue | undefined,
): void {
  if (op === 'remove') throw ScimError.noTarget('remove needs a path');
  if (!isObject(value))
    throw ScimError.invalidValue('An operation without a path needs an object value');
  for (const [k, v] of Object.entries(value)) {
    const lower = k.toLowerCase();
    if (lower === 'schemas') continue;
    if (RESERVED.has(lower)) {
      if (isDeepStrictEqual(getCI(doc, k), v)) continue;
      throw ScimError.mutability(`${k} is read-only`);
    }
    // Keys may be paths themselves: `name.givenName`, `urn:...:enterprise:2.0:User:manager`.
    applyAt(doc, schema, parsePatchPath(k, schema), op, v);
  }
}

/** Applies operations to a deep copy of `doc` and returns it; throws ScimError on the first bad one. */
export function applyPatch(
  doc: JsonObject,
  ops: PatchOperation[],
  schema: ResourceSchema,
): JsonObject {
  const next = cloneJson(doc);
  const filtered: PatchPath[] = [];
  for (const o of ops) {
    if (o.path === undefined) {
      applyPathless(next, schema, o.op, o.value);
      continue;
    }
    const p = parsePatchPath(o.path, schema);
    applyAt(next, schema, p, o.op, o.value);
    if (p.filter && p.sub) filtered.push(p);
  }
  // A value-filter path that created an element with only its qualifiers (`emails[type eq
  // "work"].primary` on a user without a work address) describes no value: once every operation
  // ran (a later one may add the value), such elements go, as they do after a remove.
  for (const p of filtered) {
    const target = container(next, schema, p.uri, false);
    const arr = target ? getCI(target, p.attr) : undefined;
    if (target && Array.isArray(arr) && arr.some(isEmptyElement))
      keepMeaningful(
        target,
        schema.byUri.get(p.uri)?.get(p.attr.toLowerCase())?.name ?? p.attr,
        arr,
      );
  }
  return next;
}
