-- Audit trail of admin actions (admin API and CLI): who, what, when. Ids and settings only, never
-- a token secret or personal data. Written in the transaction of the change it records; read
-- newest first by id (keyset paging), optionally for one directory.
CREATE TABLE "admin_audit" (
    "id" BIGSERIAL PRIMARY KEY,
    "at" TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "directory_id" TEXT,
    "target_id" TEXT,
    "detail" JSONB
);

-- No foreign key: the record of a directory outlives its deletion.
CREATE INDEX "admin_audit_directory_idx" ON "admin_audit" ("directory_id", "id");
