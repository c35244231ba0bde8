// Local development certificate authority: packages/dev-ca (plain CommonJS, the one
// implementation, which @idp/dev-azure uses too), loaded by path because the scripts run before
// any build or workspace link. Files live under <repo>/.dev/ca (git-ignored) or $DEV_CA_DIR.
// Plain ESM without top-level await, so CommonJS code can require() it too.
// Usage: node scripts/dev-ca.mjs [extra host...]   creates or reuses them and prints the paths.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDevCa } from '../packages/dev-ca/src/index.cjs';

export { ensureDevCa, extraCaCerts } from '../packages/dev-ca/src/index.cjs';

const invokedDirectly =
  process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  ensureDevCa({ hosts: process.argv.slice(2) })
    .then((r) => {
      console.log(`CA certificate:     ${r.caCertPath}`);
      console.log(`Server certificate: ${r.certPath}`);
      console.log(`Server key:         ${r.keyPath}`);
      console.log(`Trust it in Node:   NODE_EXTRA_CA_CERTS=${r.caCertPath}`);
    })
    .catch((err) => {
      console.error(`dev-ca: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    });
}
