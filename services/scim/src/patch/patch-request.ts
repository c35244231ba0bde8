import { ScimError } from '../scim/scim-error';
import { isObject, URN, type JsonValue } from '../scim/schemas';

export type PatchOpName = 'add' | 'replace' | 'remove';
export interface PatchOperation {
  op: PatchOpName;
  path?: string;
  value?: JsonValue;
}

const MAX_OPERATIONS = 1000;

/** Validates a PatchOp body; op names are accepted in any case (Entra sends `Replace`). */
export function parsePatchRequest(body: unknown): PatchOperation[] {
  if (!isObject(body)) throw ScimError.invalidSyntax('Request body must be a PatchOp object');
  const schemas = body.schemas;
  if (
    !Array.isArray(schemas) ||
    !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === URN.patchOp.toLowerCase())
  ) {
    throw ScimError.invalidSyntax(`schemas must contain ${URN.patchOp}`);
  }
  const ops = body.Operations ?? body.operations;
  if (!Array.isArray(ops) || ops.length === 0)
    throw ScimError.invalidSyntax('Operations must be a non-empty array');
  if (ops.length > MAX_OPERATIONS)
    throw ScimError.tooMany(`At most ${MAX_OPERATIONS} operations per request`);
  return ops.map((o, i) => {
    if (!isObject(o)) throw ScimError.invalidSyntax(`Operations[${i}] must be an object`);
    const op = typeof o.op === 'string' ? o.op.toLowerCase() : '';
    if (op !== 'add' && op !== 'replace' && op !== 'remove')
      throw ScimError.invalidSyntax(`Operations[${i}].op must be add, replace or remove`);
    if (o.path !== undefined && typeof o.path !== 'string')
      throw ScimError.invalidPath(`Operations[${i}].path must be a string`);
    if (op !== 'remove' && o.value === undefined)
      throw ScimError.invalidValue(`Operations[${i}] needs a value`);
    if (op === 'remove' && (o.path === undefined || o.path === '') && o.value === undefined)
      throw ScimError.noTarget(`Operations[${i}]: remove needs a path`);
    return { op, path: o.path === '' ? undefined : (o.path as string | undefined), value: o.value };
  });
}
