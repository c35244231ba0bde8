#!/usr/bin/env node
// `prisma generate` only needs the schema engine path to exist; where the
// native engine cannot be downloaded (offline CI) point it at any file.
import { spawnSync } from 'node:child_process';

const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
env.PRISMA_HIDE_UPDATE_MESSAGE = '1';
const r = spawnSync('npx', ['--no-install', 'prisma', 'generate', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env,
});
process.exit(r.status ?? 1);
