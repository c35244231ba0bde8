#!/usr/bin/env node
// `node scripts/bootstrap/cli.mjs [tool ...]`: provisions the named tools (default: all that
// `npm test` needs) and prints one line per tool. --env prints the resulting variables as JSON.
import { allTools, bootstrap, BootstrapError, forTest } from './index.mjs';

const args = process.argv.slice(2);
const names = args.filter((a) => !a.startsWith('--'));
const unknown = names.filter((n) => !allTools[n]);
if (unknown.length) {
  console.error(
    `unknown tool(s): ${unknown.join(', ')}; known: ${Object.keys(allTools).join(', ')}`,
  );
  process.exit(2);
}
try {
  const { env, node } = await bootstrap({ need: names.length ? names : forTest });
  if (args.includes('--env')) {
    const keys = [
      'PATH',
      'IDP_TOOLS_DIR',
      'NATS_SERVER_BIN',
      'PG_BIN_DIR',
      'CHROMIUM_PATH',
      'COREDNS_BIN',
      'PYTHONPATH',
    ];
    console.log(
      JSON.stringify({
        node,
        ...Object.fromEntries(keys.filter((k) => env[k] !== undefined).map((k) => [k, env[k]])),
      }),
    );
  }
} catch (e) {
  if (!(e instanceof BootstrapError)) throw e;
  console.error(`[bootstrap] ${e.message}`);
  process.exit(1);
}
