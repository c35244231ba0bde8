/** The columns of scim_groups under the names of the Prisma model, so rows map straight onto ScimGroup. */
export const GROUP_COLUMNS = `g.id, g.directory_id AS "directoryId", g.display_name AS "displayName", g.display_name_lower AS "displayNameLower",
  g.external_id AS "externalId", g.data, g.version, g.created_at AS "createdAt", g.updated_at AS "updatedAt"`;

export const GROUP_RETURNING = GROUP_COLUMNS.replace(/\bg\./g, '');
