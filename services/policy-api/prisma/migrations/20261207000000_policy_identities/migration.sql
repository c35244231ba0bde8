-- A policy belongs to identities (provider kind + tenant + object id), no longer to a bare oid:
-- a user migrated from B2C to External ID gets a new object id and keeps the policy through a
-- second identity linked once (issue 16). B2C identities use tenant_id '' (one B2C tenant).

-- CreateTable
CREATE TABLE "policy_identities" (
    "provider" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "oid" TEXT NOT NULL,
    "policy_id" UUID NOT NULL,
    "linked_from" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "policy_identities_pkey" PRIMARY KEY ("provider","tenant_id","oid"),
    CONSTRAINT "policy_identities_provider_check" CHECK ("provider" IN ('b2c', 'external-id')),
    CONSTRAINT "policy_identities_tenant_check" CHECK (("provider" = 'b2c') = ("tenant_id" = ''))
);

-- CreateTable
CREATE TABLE "identity_link_audit" (
    "id" UUID NOT NULL,
    "at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "outcome" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "oid" TEXT NOT NULL,
    "legacy_oid" TEXT NOT NULL,
    "policy_id" UUID NOT NULL,
    "client_id" TEXT,
    "request_id" TEXT NOT NULL,

    CONSTRAINT "identity_link_audit_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "identity_link_audit_outcome_check" CHECK ("outcome" IN ('linked', 'refused_already_linked'))
);

-- AlterTable
ALTER TABLE "policy_history" ADD COLUMN "changed_by_provider" TEXT NOT NULL DEFAULT 'b2c';

-- Every existing policy belongs to the B2C identity that created it.
INSERT INTO "policy_identities" ("provider", "tenant_id", "oid", "policy_id", "created_at")
SELECT 'b2c', '', "holder_oid", "id", "created_at" FROM "policies";

-- holder_oid stays as the creator's oid; identities decide ownership now.
DROP INDEX "policies_holder_oid_key";

-- CreateIndex: at most one identity per provider and tenant holds a policy, so one B2C policy
-- is linked to at most one External ID identity.
CREATE UNIQUE INDEX "policy_identities_policy_id_provider_tenant_id_key" ON "policy_identities"("policy_id", "provider", "tenant_id");

-- CreateIndex
CREATE INDEX "identity_link_audit_policy_id_idx" ON "identity_link_audit"("policy_id");

-- AddForeignKey
ALTER TABLE "policy_identities" ADD CONSTRAINT "policy_identities_policy_id_fkey" FOREIGN KEY ("policy_id") REFERENCES "policies"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "identity_link_audit" ADD CONSTRAINT "identity_link_audit_policy_id_fkey" FOREIGN KEY ("policy_id") REFERENCES "policies"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
