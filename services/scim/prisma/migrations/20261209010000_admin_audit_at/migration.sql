-- The cleanup job deletes audit entries older than SCIM_AUDIT_RETENTION_DAYS, oldest first.
CREATE INDEX "admin_audit_at_idx" ON "admin_audit" ("at");
