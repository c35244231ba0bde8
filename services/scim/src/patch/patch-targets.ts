import type { ResourceSchema } from '../scim/attribute-defs';
import { isObject } from '../scim/schemas';
import { parsePatchPath } from './patch-path';
import type { PatchOperation } from './patch-request';

/** The attributes each operation touches (path-less values name theirs by key), for profile checks. */
export function patchTargets(
  ops: PatchOperation[],
  schema: ResourceSchema,
): { op: string; uri: string; attr: string }[] {
  return ops.flatMap((o) => {
    if (o.path !== undefined) {
      const p = parsePatchPath(o.path, schema);
      return [{ op: o.op, uri: p.uri, attr: p.attr }];
    }
    if (!isObject(o.value)) return [];
    return Object.keys(o.value)
      .filter((k) => k.toLowerCase() !== 'schemas')
      .map((k) => {
        const ext = schema.extensions.find((e) => e.toLowerCase() === k.toLowerCase());
        if (ext) return { op: o.op, uri: ext.toLowerCase(), attr: '' };
        const p = parsePatchPath(k, schema);
        return { op: o.op, uri: p.uri, attr: p.attr };
      });
  });
}
