-- AlterTable
ALTER TABLE "scim_groups" ALTER COLUMN "data" SET DATA TYPE JSON;

-- AlterTable
ALTER TABLE "scim_users" ALTER COLUMN "data" SET DATA TYPE JSON;
