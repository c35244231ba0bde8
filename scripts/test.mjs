#!/usr/bin/env node
// The README's test command. Without a tier: lint (eslint, prettier --check, knip), typecheck and
// every tier of every workspace's tests through turbo, one workspace at a time (integration and e2e
// specs start PostgreSQL, NATS, dev-azure and browsers). With `--tier unit|integration|e2e`: that
// tier's tests only (`npm run test:unit` etc.); the unit tier starts nothing, so its workspaces run
// side by side. Closes with one line of the totals Jest reported across all workspaces. First the
// bootstrap provisions the tools the run needs and, on a node older than 24, re-runs this under Node 24.
// Usage: node scripts/test.mjs [--tier unit|integration|e2e] [turbo args...]
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { ensureTools, forTest } from './bootstrap/index.mjs';
import { ensureDevCa, extraCaCerts } from './dev-ca.mjs';

const TIERS = ['unit', 'integration', 'e2e'];
const root = path.resolve(import.meta.dirname, '..');
const argv = process.argv.slice(2);
const at = argv.indexOf('--tier');
const tier = at >= 0 ? argv[at + 1] : undefined;
if (at >= 0 && !TIERS.includes(tier ?? '')) {
  console.error(`usage: node scripts/test.mjs [--tier ${TIERS.join('|')}] [turbo args...]`);
  process.exit(2);
}
const passThrough = at >= 0 ? [...argv.slice(0, at), ...argv.slice(at + 2)] : argv;

// The unit tier needs nothing but Node 24; the others start servers and browsers.
await ensureTools(tier === 'unit' ? ['node'] : forTest);
console.log(`[test] node ${process.version} (${process.execPath})${tier ? `, ${tier} tier` : ''}`);
const { caCertPath } = await ensureDevCa();
const tasks = tier ? [`test:${tier}`] : ['lint', 'format:check', 'knip', 'typecheck', 'test'];
const concurrency = tier === 'unit' ? Math.max(2, availableParallelism()) : 1;
const args = [
  'turbo',
  'run',
  ...tasks,
  `--concurrency=${concurrency}`,
  '--continue',
  '--output-logs=full',
  // Side by side, each workspace's log is printed whole when it ends, not interleaved.
  ...(concurrency > 1 ? ['--log-order=grouped'] : []),
  ...passThrough,
];
const child = spawn('npx', ['--no-install', ...args], {
  cwd: root,
  env: { ...process.env, NODE_EXTRA_CA_CERTS: extraCaCerts(caCertPath), FORCE_COLOR: '0' },
  stdio: ['ignore', 'pipe', 'pipe'],
});

let passed = 0;
let failed = 0;
let skipped = 0;
let suitesFailed = 0;
const scan = (chunk) => {
  for (const line of chunk.split('\n')) {
    const t = /Tests:\s+(.*)$/.exec(line);
    if (t) {
      const count = (word) => Number(new RegExp(`(\\d+) ${word}`).exec(t[1])?.[1] ?? 0);
      passed += count('passed');
      failed += count('failed');
      skipped += count('skipped') + count('todo');
    }
    const s = /Test Suites:\s+(\d+) failed/.exec(line);
    if (s) suitesFailed += Number(s[1]);
  }
};
let buf = '';
const onData = (stream) => (d) => {
  const text = d.toString();
  stream.write(text);
  buf += text;
  const nl = buf.lastIndexOf('\n');
  if (nl >= 0) {
    scan(buf.slice(0, nl));
    buf = buf.slice(nl + 1);
  }
};
child.stdout.on('data', onData(process.stdout));
child.stderr.on('data', onData(process.stderr));
child.on('exit', (code) => {
  scan(buf);
  console.log('');
  if (suitesFailed) console.log(`${suitesFailed} test suite(s) failed to run or had failures`);
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  if (passed === 0 && code === 0) {
    console.error('no test ran: treating as a failure');
    process.exit(1);
  }
  process.exit(code ?? 1);
});
