-- Optimistic concurrency for session writes: every write back compares the version it loaded and
-- bumps it, so two requests of one session can no longer overwrite each other's changes unseen.
ALTER TABLE "session" ADD COLUMN "version" INTEGER NOT NULL DEFAULT 0;
