import { jsonEqual } from '../patch/json-equal';
import { parsePatchPath } from '../patch/patch-path';
import type { PatchOperation } from '../patch/patch-request';
import { COMMON_ATTRS, subDef, type AttrDef, type ResourceSchema } from './attribute-defs';
import { getCI } from './json-ci';
import { defineKey } from './json-tree';
import { ScimError } from './scim-error';
import { isObject, URN, type JsonObject, type JsonValue } from './schemas';

// Every write (POST, PUT, the result of PATCH) is checked against the schema /Schemas advertises
// (attribute-defs.ts), so what is stored is what the schema describes (RFC 7643 §2, §3, §7;
// RFC 7644 §3.3, §3.5.1, §3.12). scimTypes: a missing or malformed `schemas` and unknown
// attributes are invalidSyntax (the body does not conform to the request schema); values of the
// wrong type and URNs this resource type does not have are invalidValue ("not compatible with the
// attribute type or resource schema").

/** `id`, `externalId`, `meta` (RFC 7643 §3.1): part of every resource's core schema. */
const COMMON = new Map(COMMON_ATTRS.map((d) => [d.name.toLowerCase(), d]));

/**
 * URNs a client is known to list without sending attributes under them: accepted, not stored.
 * Entra ID lists its ADSCIM group schema on every group it creates (Microsoft's SCIM request
 * examples), and expects the core schema alone back.
 */
const IGNORED_URNS = new Map<string, string[]>([
  [
    URN.group.toLowerCase(),
    ['http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group'],
  ],
]);

const typeName = (schema: ResourceSchema): string =>
  schema.core.slice(schema.core.lastIndexOf(':') + 1);

const jsonType = (v: JsonValue): string =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'an array'
      : typeof v === 'object'
        ? 'an object'
        : `a ${typeof v}`;

const wrongType = (path: string, want: string, v: JsonValue): ScimError =>
  ScimError.invalidValue(`${path} must be ${want}, not ${jsonType(v)}`);

/** A core or extension attribute of the resource type; `uri` is lower-cased. */
function attrDef(schema: ResourceSchema, uri: string, name: string): AttrDef | undefined {
  const l = name.toLowerCase();
  const found = schema.byUri.get(uri)?.get(l);
  return found || uri !== schema.core.toLowerCase() ? found : COMMON.get(l);
}

// RFC 3339 §5.6 date-time (xsd:dateTime as RFC 7643 §2.3.5 profiles it).
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/** RFC 7643 §2.3.2: Entra sends booleans as "True" / "False"; they are stored as booleans. */
function toBoolean(v: JsonValue, path: string): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const l = v.trim().toLowerCase();
    if (l === 'true') return true;
    if (l === 'false') return false;
  }
  throw wrongType(path, 'a boolean', v);
}

/** One value (an element, for a multi-valued attribute) against its definition, normalised. */
function checkOne(
  def: AttrDef,
  v: JsonValue,
  prev: JsonValue | undefined,
  path: string,
): JsonValue {
  switch (def.type) {
    case 'boolean':
      return toBoolean(v, path);
    case 'integer':
      if (typeof v !== 'number' || !Number.isInteger(v)) throw wrongType(path, 'an integer', v);
      return v;
    case 'decimal':
      // JSON.parse reads 1e999 as Infinity, which JSON cannot store (it would become null).
      if (typeof v !== 'number' || !Number.isFinite(v)) throw wrongType(path, 'a number', v);
      return v;
    case 'dateTime':
      if (typeof v !== 'string' || !DATE_TIME.test(v) || Number.isNaN(Date.parse(v)))
        throw ScimError.invalidValue(
          `${path} must be a date-time string such as "2026-01-31T12:00:00Z" (RFC 3339)`,
        );
      return v;
    case 'complex':
      if (!isObject(v)) throw wrongType(path, 'an object (a complex attribute)', v);
      return checkObject(
        v,
        isObject(prev) ? prev : undefined,
        (k) => subDef(def, k),
        (k) => `${path}.${k}`,
        (k) => ScimError.invalidSyntax(`Unknown sub-attribute "${path}.${k}" (not in the schema)`),
      );
    default:
      // string, reference and binary values are JSON strings (RFC 7643 §2.3).
      if (typeof v !== 'string') throw wrongType(path, 'a string', v);
      return v;
  }
}

/** An attribute's value: arrays for multi-valued attributes, elements checked one by one. */
function checkValue(
  def: AttrDef,
  v: JsonValue,
  prev: JsonValue | undefined,
  path: string,
): JsonValue {
  if (!def.multi) {
    if (Array.isArray(v))
      throw ScimError.invalidValue(`${path} is single-valued: its value must not be an array`);
    return checkOne(def, v, prev, path);
  }
  if (!Array.isArray(v))
    throw ScimError.invalidValue(`${path} is multi-valued: its value must be an array`);
  const before = Array.isArray(prev) ? prev : [];
  return v.map((el, i) => {
    try {
      if (el === null) throw ScimError.invalidValue(`${path}[${i}] must not be null`);
      return checkOne(def, el, before[i], `${path}[${i}]`);
    } catch (e) {
      // An element a PATCH left as it was stored is kept (see checkResource). Compared only on
      // failure: comparing every element with every stored one would be quadratic.
      if (e instanceof ScimError && before.some((p) => jsonEqual(p, el))) return el;
      throw e;
    }
  });
}

type DefOf = (name: string) => AttrDef | undefined;

/**
 * One member of an object (the resource, an extension, a complex value), written to `out`: unknown
 * names refused, readOnly ones dropped (RFC 7644 §3.3: ignored), null ones dropped (RFC 7643 §2.5:
 * unassigned), and a value equal to the stored one (`prev`, PATCH) kept as it is.
 */
function checkEntry(
  out: JsonObject,
  k: string,
  v: JsonValue,
  prev: JsonValue | undefined,
  defOf: DefOf,
  pathOf: (name: string) => string,
  unknown: (name: string) => ScimError,
): void {
  if (prev !== undefined && jsonEqual(prev, v)) {
    defineKey(out, k, v);
    return;
  }
  const def = defOf(k);
  if (!def) throw unknown(k);
  if (def.mutability === 'readOnly' || v === null) return;
  if (def.name === 'manager' && def.type === 'complex' && typeof v === 'string') {
    // Entra sends the enterprise manager as a bare id in a POST too (as in PATCH); "" is no manager.
    if (v !== '') defineKey(out, k, checkValue(def, { value: v }, prev, pathOf(def.name)));
    return;
  }
  defineKey(out, k, checkValue(def, v, prev, pathOf(def.name)));
}

function checkObject(
  obj: JsonObject,
  before: JsonObject | undefined,
  defOf: DefOf,
  pathOf: (name: string) => string,
  unknown: (name: string) => ScimError,
): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(obj))
    checkEntry(out, k, v, before ? getCI(before, k) : undefined, defOf, pathOf, unknown);
  return out;
}

/** POST/PUT: `schemas` as sent, checked (RFC 7643 §3), in canonical spelling, without duplicates. */
function declaredSchemas(schema: ResourceSchema, v: JsonValue | undefined): string[] {
  const supported = [schema.core, ...schema.extensions];
  if (v === undefined || v === null)
    throw ScimError.invalidSyntax(
      `schemas is required: a ${typeName(schema)} lists its schema URIs, e.g. ["${schema.core}"] (RFC 7643 §3)`,
    );
  if (!Array.isArray(v) || v.length === 0 || !v.every((s) => typeof s === 'string'))
    throw ScimError.invalidSyntax('schemas must be a non-empty array of schema URI strings');
  const ignored = IGNORED_URNS.get(schema.core.toLowerCase()) ?? [];
  const out: string[] = [];
  for (const s of v as string[]) {
    const l = s.toLowerCase();
    const known = supported.find((u) => u.toLowerCase() === l);
    if (known) {
      if (!out.includes(known)) out.push(known);
    } else if (!ignored.some((u) => u.toLowerCase() === l)) {
      throw ScimError.invalidValue(
        `schemas: "${s}" is not a schema of the ${typeName(schema)} resource type (supported: ${supported.join(', ')})`,
      );
    }
  }
  if (!out.includes(schema.core))
    throw ScimError.invalidSyntax(`schemas must include the core schema ${schema.core}`);
  return out;
}

/** PATCH: the stored `schemas` (a PATCH cannot change it), core first when a legacy row lacked it. */
function storedSchemas(schema: ResourceSchema, v: JsonValue | undefined): string[] {
  const out = Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
  if (!out.some((s) => s.toLowerCase() === schema.core.toLowerCase())) out.unshift(schema.core);
  return out;
}

/**
 * Checks a resource document against the schema and returns it normalised for storage: `schemas`
 * canonical (and listing every extension the document carries), readOnly and null values dropped,
 * string booleans turned into booleans; attribute names keep the spelling sent.
 *
 * `before` (PATCH) is the stored document the operations started from: values equal to what it
 * holds are not checked again, so a resource stored before this check existed, holding something
 * it now refuses, stays patchable; whatever the PATCH changed or added is checked in full.
 */
export function checkResource(
  schema: ResourceSchema,
  doc: JsonObject,
  before?: JsonObject,
): JsonObject {
  const core = schema.core.toLowerCase();
  const schemas = before
    ? storedSchemas(schema, getCI(doc, 'schemas'))
    : declaredSchemas(schema, getCI(doc, 'schemas'));
  const out: JsonObject = { schemas };
  for (const [k, v] of Object.entries(doc)) {
    const l = k.toLowerCase();
    if (l === 'schemas') continue;
    const ext = schema.extensions.find((e) => e.toLowerCase() === l);
    const prev = before ? getCI(before, k) : undefined;
    if (ext === undefined) {
      checkEntry(
        out,
        k,
        v,
        prev,
        (n) => attrDef(schema, core, n),
        (n) => n,
        (n) =>
          ScimError.invalidSyntax(
            /^urn:/i.test(n)
              ? `Unknown attribute "${n}": the ${typeName(schema)} resource type's extensions are ${schema.extensions.join(', ') || 'none'}, each sent as an object keyed by its URN`
              : `Unknown attribute "${n}" (not in ${schema.core})`,
          ),
      );
      continue;
    }
    // RFC 7643 §2.5: a null extension is an absent one.
    if (v === null) continue;
    if (!isObject(v)) throw wrongType(ext, 'an object (a schema extension)', v);
    const body: JsonObject = {};
    // Clients copy an extension from a representation, `schemas` included (as PATCH allows).
    for (const [n, x] of Object.entries(v))
      if (n.toLowerCase() !== 'schemas') defineKey(body, n, x);
    defineKey(
      out,
      k,
      checkObject(
        body,
        isObject(prev) ? prev : undefined,
        (n) => attrDef(schema, l, n),
        (n) => `${ext}:${n}`,
        (n) => ScimError.invalidSyntax(`Unknown attribute "${ext}:${n}" (not in ${ext})`),
      ),
    );
    // An extension carried is an extension declared (RFC 7643 §3), as PATCH adds it too.
    if (!schemas.some((s) => s.toLowerCase() === l)) schemas.push(ext);
  }
  return out;
}

/**
 * PATCH targets (RFC 7644 §3.5.2), before the operations are applied: an add or replace whose path
 * names an attribute or sub-attribute the schema does not have is 400 invalidPath, one naming a
 * readOnly sub-attribute 400 mutability (readOnly attributes are refused by the PATCH engine).
 * `remove` may name anything, so what a row stored before this check holds can be cleared.
 */
export function checkPatchTargets(ops: PatchOperation[], schema: ResourceSchema): void {
  for (const o of ops) {
    if (o.path === undefined || o.op === 'remove') continue;
    const p = parsePatchPath(o.path, schema);
    const lower = p.attr.toLowerCase();
    if (p.attr === '' || (p.uri === schema.core.toLowerCase() && lower === 'schemas')) continue;
    const def = attrDef(schema, p.uri, p.attr);
    if (!def)
      throw ScimError.invalidPath(`Unknown attribute in path "${o.path}" (not in the schema)`);
    if (!p.sub || def.type !== 'complex') continue;
    const sub = subDef(def, p.sub);
    if (!sub)
      throw ScimError.invalidPath(
        `Unknown sub-attribute "${def.name}.${p.sub}" in path "${o.path}"`,
      );
    if (sub.mutability === 'readOnly')
      throw ScimError.mutability(`${def.name}.${sub.name} is read-only`);
  }
}

/**
 * One element of a multi-valued attribute sent outside a document (group members in a PATCH,
 * which go to their own table): checked as the element of a stored document would be.
 */
export function checkElement(def: AttrDef, el: JsonValue, path: string): JsonValue {
  return checkOne(def, el, undefined, path);
}
