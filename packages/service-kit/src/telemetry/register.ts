/**
 * Import this FIRST in a service's main.ts (`import '@idp/service-kit/telemetry';`): tsc's
 * CommonJS output keeps import order, so the SDK hooks `require` before pg, Prisma, Fastify and
 * the Azure SDK load. Equivalent preload: `node --require @idp/service-kit/telemetry dist/main.js`.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { onTelemetryShutdown, shutdownTelemetry } from './lifecycle';
import { tracingRequested } from './settings';

/** `policy-api` for services/policy-api/dist/main.js: the entry's package name without scope. */
function entryServiceName(): string {
  let dir = dirname(process.argv[1] ?? process.cwd());
  for (let i = 0; i < 5; i++) {
    try {
      const { name } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
      };
      if (name) return name.replace(/^@[^/]+\//, '');
    } catch {
      // no package.json here: look one level up
    }
    dir = dirname(dir);
  }
  return 'service';
}

if (tracingRequested()) {
  // Required lazily: with tracing off not one OpenTelemetry SDK module is loaded.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startSdk } = require('./sdk') as typeof import('./sdk');
  const sdk = startSdk(entryServiceName());
  onTelemetryShutdown(() => sdk.shutdown());
  // A clean exit without bootService (scripts, CLIs) still flushes what is queued.
  process.once('beforeExit', () => void shutdownTelemetry());
}
