import { parseAttrRef } from '../filter/filter-parser';
import type { ResourceSchema } from './attribute-defs';
import { deleteCI, getCI, keyCI } from './json-ci';
import { attrList } from './list-query';
import { cloneJson, defineKey } from './json-tree';
import { ScimError } from './scim-error';
import { isObject, type JsonObject, type JsonValue } from './schemas';

// `attributes` / `excludedAttributes` (RFC 7644 §3.9). `id` and `schemas` are always returned.

/** The two parameters of a request: GET's, and (RFC 7644 §3.9) every write's response. */
export interface Projection {
  attributes?: string[];
  excluded?: string[];
}

const one = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** `attributes` / `excludedAttributes` from a request's query (a repeated parameter counts as absent, as on GET). */
export const projection = (q: Record<string, unknown>): Projection => ({
  attributes: attrList(one(q.attributes)),
  excluded: attrList(one(q.excludedAttributes)),
});

/** Refuses a malformed projection before a write, so a bad `attributes` never follows a stored change. */
export function checkProjection(p: Projection, schema: ResourceSchema): void {
  refs(p.attributes ?? [], schema);
  refs(p.excluded ?? [], schema);
}

/** A written resource as the response shows it, and the headers taken from the whole resource. */
export interface Written {
  resource: JsonObject;
  location: string;
  etag: string;
}

/** Projects a write's response like a GET; Location and ETag come from the resource's meta, which a projection may leave out. */
export function written(full: JsonObject, schema: ResourceSchema, p: Projection): Written {
  const m = isObject(full.meta) ? full.meta : {};
  return {
    resource: project(full, schema, p.attributes, p.excluded),
    location: typeof m.location === 'string' ? m.location : '',
    etag: typeof m.version === 'string' ? m.version : '',
  };
}

/** A read of one resource as the response shows it, and its version (the ETag) whatever the projection kept. */
export interface Read {
  resource: JsonObject;
  etag: string;
}

interface Ref {
  uri: string;
  attr: string;
  sub?: string;
}

function refOf(raw: string, schema: ResourceSchema): Ref {
  // RFC 7644 §3.9: attribute names only; a filter such as `emails[type eq "work"]` is not one.
  if (raw.includes('['))
    throw ScimError.invalidValue(
      `Invalid attribute "${raw}": attributes and excludedAttributes take attribute names only, no filters`,
    );
  const r = parseAttrRef(raw, ScimError.invalidValue);
  const uri = (r.uri ?? schema.core).toLowerCase();
  // `urn:...:enterprise:2.0:User` alone names the whole extension.
  if (!r.uri && /^urn:/i.test(raw)) return { uri: raw.toLowerCase(), attr: '' };
  return { uri, attr: r.attr, sub: r.sub };
}

/** The key of an extension object in `res` (any stored shape: a value that is not an object counts as absent). */
function extKey(res: JsonObject, schema: ResourceSchema, uri: string): string | undefined {
  const ext = schema.extensions.find((e) => e.toLowerCase() === uri);
  const k = ext === undefined ? undefined : keyCI(res, ext);
  return k !== undefined && isObject(res[k]) ? k : undefined;
}

function refs(list: string[], schema: ResourceSchema): Ref[] {
  return list.map((raw) => {
    const lower = raw.toLowerCase();
    const ext = schema.extensions.find((e) => e.toLowerCase() === lower);
    return ext ? { uri: lower, attr: '' } : refOf(raw, schema);
  });
}

function pick(src: JsonValue | undefined, sub: string | undefined): JsonValue | undefined {
  if (src === undefined || !sub) return src;
  if (Array.isArray(src))
    return src.flatMap((el) =>
      isObject(el) && getCI(el, sub) !== undefined
        ? [{ [keyCI(el, sub) as string]: getCI(el, sub) as JsonValue }]
        : [],
    );
  if (isObject(src)) {
    const v = getCI(src, sub);
    return v === undefined ? undefined : { [keyCI(src, sub) as string]: v };
  }
  return undefined;
}

function merge(out: JsonObject, key: string, v: JsonValue): void {
  const cur = Object.hasOwn(out, key) ? out[key] : undefined;
  if (isObject(cur) && isObject(v)) defineKey(out, key, { ...cur, ...v });
  else if (Array.isArray(cur) && Array.isArray(v))
    defineKey(
      out,
      key,
      cur.map((el, i) =>
        isObject(el) && isObject(v[i]) ? { ...el, ...(v[i] as JsonObject) } : el,
      ),
    );
  else defineKey(out, key, v);
}

/**
 * The resource without what it holds under an extension the directory no longer declares (a
 * deleted declaration: the data stays stored, unreturned), in its `schemas` too.
 */
function declaredOnly(res: JsonObject, schema: ResourceSchema): JsonObject {
  const known = new Set([schema.core, ...schema.extensions].map((u) => u.toLowerCase()));
  const stale = Object.keys(res).filter((k) => /^urn:/i.test(k) && !known.has(k.toLowerCase()));
  const schemas = res.schemas;
  const listed = Array.isArray(schemas)
    ? schemas.filter((s) => typeof s !== 'string' || known.has(s.toLowerCase()))
    : undefined;
  if (
    stale.length === 0 &&
    listed?.length === (Array.isArray(schemas) ? schemas.length : undefined)
  )
    return res;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(res)) if (!stale.includes(k)) defineKey(out, k, v);
  if (listed) out.schemas = listed;
  return out;
}

export function project(
  full: JsonObject,
  schema: ResourceSchema,
  attributes?: string[],
  excluded?: string[],
): JsonObject {
  const res = declaredOnly(full, schema);
  if (attributes?.length) {
    const out: JsonObject = {};
    for (const k of ['schemas', 'id']) if (res[k] !== undefined) out[k] = res[k];
    for (const r of refs(attributes, schema)) {
      const core = r.uri === schema.core.toLowerCase();
      const holderKey = core ? undefined : extKey(res, schema, r.uri);
      if (!core && !holderKey) continue;
      const holder = core ? res : (res[holderKey as string] as JsonObject);
      if (r.attr === '') {
        defineKey(out, holderKey as string, holder);
        continue;
      }
      const k = keyCI(holder, r.attr);
      if (!k) continue;
      const v = pick(holder[k], r.sub);
      if (v === undefined) continue;
      if (core) merge(out, k, v);
      else {
        const prev = Object.hasOwn(out, holderKey as string) ? out[holderKey as string] : undefined;
        const ext = isObject(prev) ? prev : {};
        merge(ext, k, v);
        defineKey(out, holderKey as string, ext);
      }
    }
    return out;
  }
  if (excluded?.length) {
    const out = cloneJson(res);
    for (const r of refs(excluded, schema)) {
      const core = r.uri === schema.core.toLowerCase();
      if (core && (r.attr.toLowerCase() === 'id' || r.attr.toLowerCase() === 'schemas')) continue;
      const holderKey = core ? undefined : extKey(out, schema, r.uri);
      if (!core && !holderKey) continue;
      if (r.attr === '') {
        delete out[holderKey as string];
        continue;
      }
      const holder = core ? out : (out[holderKey as string] as JsonObject);
      if (!r.sub) deleteCI(holder, r.attr);
      else {
        const v = getCI(holder, r.attr);
        if (isObject(v)) deleteCI(v, r.sub);
        else if (Array.isArray(v)) for (const el of v) if (isObject(el)) deleteCI(el, r.sub);
      }
    }
    return out;
  }
  return res;
}

/** Whether a projection would include `attr` (core schema), so callers can skip loading it. */
export function wants(
  attr: string,
  schema: ResourceSchema,
  attributes?: string[],
  excluded?: string[],
): boolean {
  const a = attr.toLowerCase();
  if (attributes?.length)
    return refs(attributes, schema).some(
      (r) => r.uri === schema.core.toLowerCase() && r.attr.toLowerCase() === a,
    );
  if (excluded?.length)
    return !refs(excluded, schema).some(
      (r) => r.uri === schema.core.toLowerCase() && r.attr.toLowerCase() === a && !r.sub,
    );
  return true;
}
