#!/usr/bin/env node
// The README's test command: lint, typecheck and every workspace's tests through turbo,
// then one closing line with the totals Jest reported across all workspaces. First the bootstrap
// provisions every tool the tests use and, on a node older than 24, re-runs this under Node 24.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ensureTools, forTest } from './bootstrap/index.mjs';
import { ensureDevCa } from './dev-ca.mjs';

const root = path.resolve(import.meta.dirname, '..');
await ensureTools(forTest);
console.log(`[test] node ${process.version} (${process.execPath})`);
const { caCertPath } = await ensureDevCa();
const args = [
  'turbo',
  'run',
  'lint',
  'typecheck',
  'test',
  '--concurrency=1',
  '--continue',
  '--output-logs=full',
  ...process.argv.slice(2),
];
const child = spawn('npx', ['--no-install', ...args], {
  cwd: root,
  env: { ...process.env, NODE_EXTRA_CA_CERTS: caCertPath, FORCE_COLOR: '0' },
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
