import type { ScimUser } from '../generated/prisma/client';
import { keyCI } from '../scim/json-ci';
import { meta } from '../scim/meta';
import { isObject, URN, type JsonObject } from '../scim/schemas';

export interface GroupRef {
  id: string;
  displayName: string;
}

/** The SCIM representation of a stored user: the document as sent plus id, meta and (when loaded) groups. */
export function toUserResource(row: ScimUser, baseUrl: string, groups?: GroupRef[]): JsonObject {
  const doc = row.data as JsonObject;
  const res: JsonObject = { schemas: doc.schemas ?? [URN.user], id: row.id, ...doc };
  res.id = row.id;
  // Rows written before a null extension was normalised away on write: it reads as absent.
  const ext = keyCI(res, URN.enterprise);
  if (ext !== undefined && !isObject(res[ext])) delete res[ext];
  if (groups?.length)
    res.groups = groups.map((g) => ({
      value: g.id,
      $ref: `${baseUrl}/Groups/${g.id}`,
      display: g.displayName,
      type: 'direct',
    }));
  delete res.password;
  res.meta = meta('User', `${baseUrl}/Users/${row.id}`, row.createdAt, row.updatedAt, row.version);
  return res;
}
