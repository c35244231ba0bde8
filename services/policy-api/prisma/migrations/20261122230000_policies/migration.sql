-- CreateTable
CREATE TABLE "policies" (
    "id" UUID NOT NULL,
    "number" TEXT NOT NULL,
    "holder_oid" TEXT NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "beneficiaries" JSONB NOT NULL DEFAULT '[]',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "policies_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "policy_history" (
    "id" UUID NOT NULL,
    "policy_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "changed_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "changed_by" TEXT NOT NULL,
    "client_id" TEXT,
    "user_flow" TEXT NOT NULL,
    "auth_time" TIMESTAMPTZ(6) NOT NULL,
    "request_id" TEXT NOT NULL,
    "before" JSONB NOT NULL,
    "after" JSONB NOT NULL,

    CONSTRAINT "policy_history_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "policies_number_key" ON "policies"("number");

-- CreateIndex
CREATE UNIQUE INDEX "policies_holder_oid_key" ON "policies"("holder_oid");

-- CreateIndex
CREATE UNIQUE INDEX "policy_history_policy_id_version_key" ON "policy_history"("policy_id", "version");

-- AddForeignKey
ALTER TABLE "policy_history" ADD CONSTRAINT "policy_history_policy_id_fkey" FOREIGN KEY ("policy_id") REFERENCES "policies"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
