-- Trigram indexes take new entries through GIN's pending list again, capped at 64 kB (a few
-- hundred rows). Inserting every trigram of every new value straight into the tree made a user
-- insert cost PostgreSQL twice the CPU (456 µs vs 227 µs measured serially, flushes included);
-- the list is merged in bulk by the write that fills it, or by autovacuum. Queries scan the list
-- linearly, which is why it was off (the default 4 MB list made `co` grow with the directory
-- after bulk loads); 64 kB keeps that scan small and the scaling benchmark within target.
ALTER INDEX "scim_users_user_name_trgm" SET (fastupdate = on, gin_pending_list_limit = 64);
ALTER INDEX "scim_users_display_name_trgm" SET (fastupdate = on, gin_pending_list_limit = 64);
ALTER INDEX "scim_users_emails_trgm" SET (fastupdate = on, gin_pending_list_limit = 64);
ALTER INDEX "scim_groups_display_name_trgm" SET (fastupdate = on, gin_pending_list_limit = 64);
