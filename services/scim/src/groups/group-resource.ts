import type { ScimGroup } from '../generated/prisma/client';
import { meta } from '../scim/meta';
import { URN, type JsonObject } from '../scim/schemas';

export interface MemberRef {
  id: string;
  displayName: string | null;
}

export function toGroupResource(
  row: ScimGroup,
  baseUrl: string,
  members: MemberRef[] | undefined,
): JsonObject {
  const doc = row.data as JsonObject;
  const res: JsonObject = { schemas: doc.schemas ?? [URN.group], id: row.id, ...doc };
  res.id = row.id;
  if (members) {
    res.members = members.map((m) => ({
      value: m.id,
      $ref: `${baseUrl}/Users/${m.id}`,
      type: 'User',
      ...(m.displayName ? { display: m.displayName } : {}),
    }));
  }
  res.meta = meta(
    'Group',
    `${baseUrl}/Groups/${row.id}`,
    row.createdAt,
    row.updatedAt,
    row.version,
  );
  return res;
}
