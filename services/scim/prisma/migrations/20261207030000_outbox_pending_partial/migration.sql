-- The relay only ever reads unpublished rows: make outbox_pending the partial index service-kit's
-- OutboxWriter documents (created_at of rows WHERE published_at IS NULL), so it stays small however
-- many published rows the table keeps. The init migration created it over every row.
DROP INDEX IF EXISTS "outbox_pending";
CREATE INDEX "outbox_pending" ON "outbox" ("created_at") WHERE "published_at" IS NULL;
