#!/usr/bin/env node
// Runs every *.bench.mjs here, one after another (they share 2 cores), after a build.
// Each benchmark prints ratios against a baseline it measures in the same run. Like `npm test`, it
// first provisions its tools and re-runs itself under the pinned Node 24: the product's runtime
// (on Node 20, AsyncLocalStorage runs on promise hooks and tracing costs twice as much).
// Usage: npm run bench [-- name-filter]
import { execSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { ensureTools, forUp } from '../scripts/bootstrap/index.mjs';
import { ensureDevCa } from '../scripts/dev-ca.mjs';

const here = import.meta.dirname;
const root = path.resolve(here, '..');
const filter = process.argv[2] ?? '';
await ensureTools(forUp);
console.log(`[bench] node ${process.version}`);
execSync('npx --no-install turbo run build --output-logs=errors-only', {
  cwd: root,
  stdio: 'inherit',
});
const { caCertPath } = await ensureDevCa();
const benches = readdirSync(here)
  .filter((f) => f.endsWith('.bench.mjs') && f.includes(filter))
  .sort();
let failed = 0;
for (const b of benches) {
  console.log(`\n=== ${b}`);
  const r = spawnSync(process.execPath, [path.join(here, b)], {
    stdio: 'inherit',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: caCertPath },
  });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
