-- AlterTable
ALTER TABLE "directories" ADD COLUMN     "max_tokens" INTEGER;
