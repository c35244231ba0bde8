-- Extension schemas a directory declares (RFC 7643 §3.3), e.g. the CustomExtension Entra ID sends
-- for custom attribute mappings: the URN, the resource type it extends and its RFC 7643 §7
-- attribute definitions. One row per URN per directory, URNs compared case-insensitively (as
-- `schemas` and attribute paths are); removed with the directory.
CREATE TABLE "scim_directory_schemas" (
    "directory_id" TEXT NOT NULL REFERENCES "directories" ("id") ON DELETE CASCADE,
    "urn" TEXT NOT NULL,
    "urn_lower" TEXT NOT NULL,
    "resource_type" TEXT NOT NULL CHECK ("resource_type" IN ('User', 'Group')),
    "name" TEXT,
    "description" TEXT,
    "attributes" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
    PRIMARY KEY ("directory_id", "urn_lower")
);
