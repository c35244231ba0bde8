#!/usr/bin/env node
// Usage: node scripts/with-dev-ca.mjs <cmd> [args...]
// Ensures the dev CA exists, then runs <cmd> with NODE_EXTRA_CA_CERTS pointing
// at it (Node reads that variable only at startup, hence a wrapper process); a CA file the
// environment already named there stays trusted (see extraCaCerts).
// Exit code and signals are forwarded.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ensureDevCa, extraCaCerts } from './dev-ca.mjs';

const repoRoot = path.resolve(import.meta.dirname, '..');
const [cmd, ...args] = process.argv.slice(2);
if (!cmd) {
  console.error('usage: node scripts/with-dev-ca.mjs <command> [args...]');
  process.exit(2);
}

ensureDevCa()
  .then(({ caCertPath }) => run(caCertPath))
  .catch((err) => {
    console.error(`with-dev-ca: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });

function run(caCertPath) {
  // Same lookup as an npm script: local and root node_modules/.bin first.
  const binDirs = [
    path.join(process.cwd(), 'node_modules', '.bin'),
    path.join(repoRoot, 'node_modules', '.bin'),
  ];
  const env = {
    ...process.env,
    NODE_EXTRA_CA_CERTS: extraCaCerts(caCertPath),
    PATH: [...binDirs, process.env.PATH ?? ''].join(path.delimiter),
  };
  const child = spawn(cmd, args, { stdio: 'inherit', env });
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const forward = (sig) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
  };
  for (const sig of signals) process.on(sig, forward);
  child.on('error', (err) => {
    console.error(`with-dev-ca: cannot run ${cmd}: ${err.message}`);
    process.exit(127);
  });
  child.on('exit', (code, signal) => {
    for (const sig of signals) process.off(sig, forward);
    if (signal) {
      // Die by the same signal so callers see the real cause.
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
}
