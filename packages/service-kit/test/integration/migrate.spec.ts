import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { startPostgres, type TestPostgres } from '@idp/testing';
import { applyMigrations, MigrationError } from '../../src';

function migrations(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'mig-'));
  for (const [name, sql] of Object.entries(files)) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'migration.sql'), sql);
  }
  return dir;
}

async function query<T>(url: string, sql: string): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows as T[];
  } finally {
    await c.end();
  }
}

describe('migration runner', () => {
  let pg: TestPostgres;
  beforeAll(async () => (pg = await startPostgres()));
  afterAll(async () => pg.stop());

  it('applies pending folders in order, once, recorded as prisma migrate deploy records them', async () => {
    const url = await pg.createDatabase();
    const dir = migrations({
      '20260101000000_b_second': 'ALTER TABLE t ADD COLUMN b int;',
      '20250101000000_a_first': 'CREATE TABLE t (a int);',
    });
    expect(await applyMigrations({ databaseUrl: url, migrationsDir: dir })).toEqual([
      '20250101000000_a_first',
      '20260101000000_b_second',
    ]);
    expect(await applyMigrations({ databaseUrl: url, migrationsDir: dir })).toEqual([]);
    const rows = await query<{
      migration_name: string;
      checksum: string;
      finished_at: Date | null;
      applied_steps_count: number;
    }>(
      url,
      'SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name',
    );
    expect(rows.map((r) => r.migration_name)).toEqual([
      '20250101000000_a_first',
      '20260101000000_b_second',
    ]);
    for (const r of rows) {
      expect(r.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(r.finished_at).not.toBeNull();
      expect(r.applied_steps_count).toBe(1);
    }
    const cols = await query<{ column_name: string }>(
      url,
      "SELECT column_name FROM information_schema.columns WHERE table_name = 't' ORDER BY column_name",
    );
    expect(cols.map((c) => c.column_name)).toEqual(['a', 'b']);
  });

  it('rolls a failing migration back completely and records nothing for it', async () => {
    const url = await pg.createDatabase();
    const dir = migrations({
      '001_ok': 'CREATE TABLE ok (a int);',
      '002_bad': 'CREATE TABLE half (a int); SELECT no_such_function();',
    });
    await expect(applyMigrations({ databaseUrl: url, migrationsDir: dir })).rejects.toThrow(
      /002_bad failed and was rolled back/,
    );
    const tables = await query<{ tablename: string }>(
      url,
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
    );
    expect(tables.map((t) => t.tablename)).toEqual(['_prisma_migrations', 'ok']);
    const names = await query<{ migration_name: string }>(
      url,
      'SELECT migration_name FROM "_prisma_migrations"',
    );
    expect(names.map((n) => n.migration_name)).toEqual(['001_ok']);
  });

  it('refuses to continue when an applied migration was edited', async () => {
    const url = await pg.createDatabase();
    const dir = migrations({ '001_init': 'CREATE TABLE x (a int);' });
    await applyMigrations({ databaseUrl: url, migrationsDir: dir });
    writeFileSync(join(dir, '001_init', 'migration.sql'), 'CREATE TABLE x (a bigint);');
    await expect(applyMigrations({ databaseUrl: url, migrationsDir: dir })).rejects.toBeInstanceOf(
      MigrationError,
    );
  });

  it('lets concurrent runners (replicas starting together) apply each migration exactly once', async () => {
    const url = await pg.createDatabase();
    const dir = migrations({
      '001_a': 'CREATE TABLE a (x int);',
      '002_b': 'CREATE TABLE b (x int);',
    });
    const results = await Promise.all(
      [1, 2, 3].map(() => applyMigrations({ databaseUrl: url, migrationsDir: dir })),
    );
    expect(results.flat().sort()).toEqual(['001_a', '002_b']);
  });
});
