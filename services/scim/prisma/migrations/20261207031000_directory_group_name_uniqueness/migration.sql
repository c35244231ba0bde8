-- Per-directory switch for group displayName uniqueness (case-insensitive, 409 uniqueness on a
-- clash). On by default: Entra matches groups by displayName and IAM Identity Center enforces it;
-- a directory whose source legitimately holds same-named groups can turn it off.
ALTER TABLE "directories" ADD COLUMN "unique_group_display_name" BOOLEAN NOT NULL DEFAULT true;
