/** The columns of scim_users under the names of the Prisma model, so rows map straight onto ScimUser. */
export const USER_COLUMNS = `u.id, u.directory_id AS "directoryId", u.user_name AS "userName", u.user_name_lower AS "userNameLower",
  u.external_id AS "externalId", u.display_name AS "displayName", u.active, u.emails_lower AS "emailsLower", u.data, u.version,
  u.created_at AS "createdAt", u.updated_at AS "updatedAt", u.deactivated_at AS "deactivatedAt"`;

/** The same list for RETURNING clauses, where the table has no alias. */
export const USER_RETURNING = USER_COLUMNS.replace(/\bu\./g, '');
