import type { ScimUser } from '../generated/prisma/client';
import { meta } from '../scim/meta';
import type { JsonObject } from '../scim/schemas';

export interface GroupRef {
  id: string;
  displayName: string;
}

/** The SCIM representation of a stored user: the document as sent plus id, meta and (when loaded) groups. */
export function toUserResource(row: ScimUser, baseUrl: string, groups?: GroupRef[]): JsonObject {
  const doc = row.data as JsonObject;
  const res: JsonObject = { schemas: doc.schemas, id: row.id, ...doc };
  res.id = row.id;
  if (groups?.length) res.groups = groups.map((g) => ({ value: g.id, $ref: `${baseUrl}/Groups/${g.id}`, display: g.displayName, type: 'direct' }));
  delete res.password;
  res.meta = meta('User', `${baseUrl}/Users/${row.id}`, row.createdAt, row.updatedAt, row.version);
  return res;
}
