-- CreateTable
CREATE TABLE "directories" (
    "id" TEXT NOT NULL,
    "profile" TEXT NOT NULL DEFAULT 'default',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "directories_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "scim_users" (
    "id" TEXT NOT NULL,
    "directory_id" TEXT NOT NULL,
    "user_name" TEXT NOT NULL,
    "user_name_lower" TEXT NOT NULL,
    "external_id" TEXT,
    "display_name" TEXT,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "emails_lower" TEXT[],
    "data" JSONB NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deactivated_at" TIMESTAMPTZ(6),

    CONSTRAINT "scim_users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "scim_groups" (
    "id" TEXT NOT NULL,
    "directory_id" TEXT NOT NULL,
    "display_name" TEXT NOT NULL,
    "display_name_lower" TEXT NOT NULL,
    "external_id" TEXT,
    "data" JSONB NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "scim_groups_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "scim_memberships" (
    "group_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "scim_memberships_pkey" PRIMARY KEY ("group_id","user_id")
);

-- CreateTable
CREATE TABLE "scim_tokens" (
    "id" TEXT NOT NULL,
    "directory_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,
    "last_used_at" TIMESTAMPTZ(6),
    "revoked_at" TIMESTAMPTZ(6),
    "warned_at" TIMESTAMPTZ(6),

    CONSTRAINT "scim_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "provisioning_log" (
    "id" BIGSERIAL NOT NULL,
    "directory_id" TEXT,
    "at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "request_id" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "operation" TEXT NOT NULL,
    "resource_type" TEXT NOT NULL,
    "resource_id" TEXT,
    "outcome" TEXT NOT NULL,
    "status" INTEGER NOT NULL,
    "duration_ms" INTEGER NOT NULL,
    "scim_type" TEXT,

    CONSTRAINT "provisioning_log_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "scim_users_directory_external_id_idx" ON "scim_users"("directory_id", "external_id");

-- CreateIndex
CREATE INDEX "scim_users_emails_lower_idx" ON "scim_users" USING GIN ("emails_lower");

-- CreateIndex
CREATE INDEX "scim_users_directory_deactivated_idx" ON "scim_users"("directory_id", "deactivated_at");

-- CreateIndex
CREATE UNIQUE INDEX "scim_users_directory_user_name_key" ON "scim_users"("directory_id", "user_name_lower");

-- CreateIndex
CREATE INDEX "scim_groups_directory_display_name_idx" ON "scim_groups"("directory_id", "display_name_lower");

-- CreateIndex
CREATE INDEX "scim_groups_directory_external_id_idx" ON "scim_groups"("directory_id", "external_id");

-- CreateIndex
CREATE INDEX "scim_memberships_user_idx" ON "scim_memberships"("user_id");

-- CreateIndex
CREATE UNIQUE INDEX "scim_tokens_hash_key" ON "scim_tokens"("hash");

-- CreateIndex
CREATE INDEX "scim_tokens_directory_idx" ON "scim_tokens"("directory_id");

-- CreateIndex
CREATE INDEX "provisioning_log_directory_at_idx" ON "provisioning_log"("directory_id", "at");

-- CreateIndex
CREATE INDEX "provisioning_log_at_idx" ON "provisioning_log"("at");

-- AddForeignKey
ALTER TABLE "scim_users" ADD CONSTRAINT "scim_users_directory_id_fkey" FOREIGN KEY ("directory_id") REFERENCES "directories"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "scim_groups" ADD CONSTRAINT "scim_groups_directory_id_fkey" FOREIGN KEY ("directory_id") REFERENCES "directories"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "scim_memberships" ADD CONSTRAINT "scim_memberships_group_id_fkey" FOREIGN KEY ("group_id") REFERENCES "scim_groups"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "scim_memberships" ADD CONSTRAINT "scim_memberships_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "scim_users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "scim_tokens" ADD CONSTRAINT "scim_tokens_directory_id_fkey" FOREIGN KEY ("directory_id") REFERENCES "directories"("id") ON DELETE CASCADE ON UPDATE CASCADE;
