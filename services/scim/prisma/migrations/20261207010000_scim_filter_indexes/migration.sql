-- Filters over the whole SCIM filter language (issue 14).

-- Trigram indexes answer `co` / `sw` / `ew` (LIKE '%...%') without scanning the directory.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- A document attribute by name, case-insensitively (RFC 7643 §2.1: attribute names are
-- case-insensitive and documents are stored with the client's spelling); the exact spelling wins.
CREATE OR REPLACE FUNCTION scim_attr(doc jsonb, name text) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN jsonb_typeof(doc) <> 'object' THEN NULL
              ELSE COALESCE(doc -> name, (SELECT e.value FROM jsonb_each(doc) e WHERE lower(e.key) = lower(name) ORDER BY e.key LIMIT 1))
         END
$$;

-- The lower-cased email values as one text, so that one trigram index serves `emails.value co/sw/ew`.
CREATE OR REPLACE FUNCTION scim_joined(vals text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT COALESCE(array_to_string(vals, E'\n'), '') $$;

-- fastupdate off: a query scans GIN's pending list linearly, which made `co` grow with the directory
-- after bulk loads; SCIM writes are few enough to update the index directly.
CREATE INDEX "scim_users_user_name_trgm" ON "scim_users" USING GIN ("user_name_lower" gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX "scim_users_display_name_trgm" ON "scim_users" USING GIN (lower("display_name") gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX "scim_users_emails_trgm" ON "scim_users" USING GIN (scim_joined("emails_lower") gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX "scim_groups_display_name_trgm" ON "scim_groups" USING GIN ("display_name_lower" gin_trgm_ops) WITH (fastupdate = off);

-- `sw` (LIKE 'prefix%') and gt/ge/lt/le (ordered by code point) on userName / group displayName: a
-- btree in the "C" collation answers both in O(log n) within a directory.
CREATE INDEX "scim_users_directory_user_name_c" ON "scim_users" ("directory_id", "user_name_lower" COLLATE "C");
CREATE INDEX "scim_groups_directory_display_name_c" ON "scim_groups" ("directory_id", "display_name_lower" COLLATE "C");
