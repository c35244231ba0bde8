#!/usr/bin/env node
// Usage: DATABASE_URL=... idp-migrate [migrations-dir]   (default: ./prisma/migrations)
// The Kubernetes migration Job runs this; users with the Prisma CLI can run `prisma migrate deploy` instead.
import { resolve } from 'node:path';
import { applyMigrations } from './migrate';

async function main(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    console.error('DATABASE_URL: is required but not set');
    process.exit(2);
  }
  const dir = resolve(process.argv[2] ?? 'prisma/migrations');
  const applied = await applyMigrations({
    databaseUrl,
    migrationsDir: dir,
    log: (l) => console.warn(l),
  });
  console.warn(
    applied.length ? `${applied.length} migration(s) applied` : 'database is up to date',
  );
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
