-- Documents stored before the service refused lone UTF-16 surrogates (a "\ud800" escape without
-- its pair) are valid `json` but not valid `jsonb`: every jsonb filter of their directory failed,
-- and so did the next migration (scim_case_fold reads data::jsonb). Each lone surrogate escape
-- becomes \ufffd, the replacement character, which is what the text columns (user_name,
-- display_name) already hold for it; the resource's version moves, since its representation did.
-- Named to run before scim_case_fold, where that one failed; harmless where it already ran.
--
-- How: an escaped backslash ("\\") is set aside first (raw U+0001 cannot occur in JSON text), so
-- every backslash left starts an escape; then a high surrogate not followed by a low one, and a low
-- surrogate not preceded by a high one, are replaced.
CREATE FUNCTION pg_temp.scim_without_lone_surrogates(doc text) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
  SELECT replace(
    regexp_replace(
      regexp_replace(
        replace(doc, '\\', E'\x01'),
        '\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})', '\\ufffd', 'g'),
      '(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}', '\\ufffd', 'g'),
    E'\x01', '\\')
$fn$;

UPDATE "scim_users" u
SET "data" = r.fixed::json, "version" = u."version" + 1, "updated_at" = now()
FROM (
  SELECT id, pg_temp.scim_without_lone_surrogates("data"::text) AS fixed
  FROM "scim_users" WHERE "data"::text ~ '\\u[dD][89a-fA-F]'
) r
WHERE u.id = r.id AND r.fixed <> u."data"::text;

UPDATE "scim_groups" g
SET "data" = r.fixed::json, "version" = g."version" + 1, "updated_at" = now()
FROM (
  SELECT id, pg_temp.scim_without_lone_surrogates("data"::text) AS fixed
  FROM "scim_groups" WHERE "data"::text ~ '\\u[dD][89a-fA-F]'
) r
WHERE g.id = r.id AND r.fixed <> g."data"::text;

DROP FUNCTION pg_temp.scim_without_lone_surrogates(text);
