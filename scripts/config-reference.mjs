#!/usr/bin/env node
// Regenerates the README's configuration reference from the per-service READMEs (one table
// row per variable) plus the shared and local-stack variables below. A test
// (test/config/config-reference.spec.ts) fails when a variable a service reads is missing.
// Usage: node scripts/config-reference.mjs [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const START = '<!-- config-reference:start -->';
const END = '<!-- config-reference:end -->';

const common = `### Every service (\`@idp/service-kit\`)

| variable | default | meaning |
| --- | --- | --- |
| \`NODE_ENV\` | \`production\` | \`development\`, \`test\` or \`production\`; some development-only switches are refused in production |
| \`PORT\` | per service (portal 3000, policy-api 3001, scim 3002, token-broker 3003) | HTTP port (API, \`/healthz\`, \`/readyz\`, \`/metrics\`) |
| \`LOG_LEVEL\` | \`info\` | pino level: \`fatal\` … \`trace\`, \`silent\` |
| \`NATS_URL\` | — (required) | \`nats://host:4222\` (comma-separated for a cluster) |
| \`NATS_USER\` / \`NATS_PASSWORD\` | unset | The service's own NATS user; its subject permissions are set on the server (see helm values \`messaging.permissions\`); replies come to \`_INBOX.<user>.>\` |
| \`DATABASE_URL\` | — (required, not for token-broker) | \`postgresql://user:pass@host:5432/db\` |
| \`MIGRATE_ON_START\` | \`false\` | Apply pending Prisma migrations at boot (the local stack does; Kubernetes runs a Job) |
| \`SHUTDOWN_TIMEOUT_MS\` | \`10000\` | Deadline for the graceful drain after SIGTERM (HTTP, then NATS, then the database) |
| \`OTEL_EXPORTER_OTLP_ENDPOINT\` / \`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT\` | unset | OTLP collector (e.g. \`http://otel-collector:4318\`). Tracing starts only when one of these (or \`OTEL_TRACES_EXPORTER\`) is set; unset = no SDK loaded at all |
| \`OTEL_EXPORTER_OTLP_PROTOCOL\` / \`OTEL_EXPORTER_OTLP_TRACES_PROTOCOL\` | \`http/protobuf\` | \`http/protobuf\`, \`http/json\` or \`grpc\` |
| \`OTEL_EXPORTER_OTLP_HEADERS\`, \`OTEL_EXPORTER_OTLP_TIMEOUT\`, \`OTEL_EXPORTER_OTLP_COMPRESSION\` | unset | Standard OTLP exporter settings (e.g. an auth header for a hosted backend) |
| \`OTEL_TRACES_EXPORTER\` | \`otlp\` when an endpoint is set, else \`none\` | \`otlp\`, \`console\` (debugging) or \`none\` |
| \`OTEL_SDK_DISABLED\` | \`false\` | \`true\` turns tracing off whatever else is set |
| \`OTEL_SERVICE_NAME\`, \`OTEL_RESOURCE_ATTRIBUTES\` | the service's name (\`policy-api\`, …) | Resource attributes of every span (e.g. \`deployment.environment.name=prod\`) |
| \`OTEL_TRACES_SAMPLER\`, \`OTEL_TRACES_SAMPLER_ARG\` | \`parentbased_always_on\` | e.g. \`parentbased_traceidratio\` and \`0.1\` to keep 10% of new traces (a caller's sampled flag is honoured) |
| \`OTEL_PROPAGATORS\` | \`tracecontext,baggage\` | W3C trace context in and out of every HTTP call |
| \`OTEL_BSP_SCHEDULE_DELAY\`, \`OTEL_BSP_MAX_QUEUE_SIZE\`, \`OTEL_BSP_MAX_EXPORT_BATCH_SIZE\`, \`OTEL_BSP_EXPORT_TIMEOUT\` | SDK defaults (5000 ms, 2048, 512, 30000 ms) | Span batching; spans beyond the queue are dropped, never block a request |
| \`OTEL_LOG_LEVEL\` | \`info\` | The SDK's own diagnostics (to stderr) |
`;

const local = `### Local stack and tests

| variable | default | meaning |
| --- | --- | --- |
| \`UP_PORT\` | \`8443\` | \`npm run up\`: port of the local HTTPS entry point |
| \`UP_DATA_DIR\` | \`.dev\` | \`npm run up\`: where the stack keeps its data (PostgreSQL, NATS, dev-azure, generated dev secrets) |
| \`UP_IDENTITY_PROVIDER\` | \`b2c\` | \`npm run up\`: the portal's customer identity provider, \`b2c\` or \`external-id\` (same as \`npm run up -- --provider external-id\`); policy-api trusts both either way (migration window) |
| \`UP_PORT_OFFSET\` | \`0\` | \`npm run up\`: added to every port (entry 8443, identity 9443, Key Vault 9444, NATS 4222, PostgreSQL 55432, services 3000–3003) to run a second stack beside the first |
| \`DATABASE_URL\` (for \`npm run up\`) | unset | Use this PostgreSQL server instead of the local one in \`.dev/postgres\` (databases \`portal\`, \`policy\`, \`scim\` are created) |
| \`DEV_CA_DIR\` | \`.dev/ca\` | Where the dev certificate authority lives (\`scripts/dev-ca.mjs\`) |
| \`NATS_SERVER_BIN\` | \`nats-server\` on PATH | nats-server used by tests and \`npm run up\` |
| \`PG_BIN_DIR\` | newest \`/usr/lib/postgresql/*/bin\` | PostgreSQL server binaries used by tests and \`npm run up\` |
| \`COREDNS_BIN\` | \`coredns\` on PATH | CoreDNS for the kind DNS-rewrite test |
| \`PROMTOOL_BIN\` | \`promtool\` on PATH | promtool for the chart's alert rules test (\`test/observability\`) |
| \`JAEGER_BIN\` | \`.dev/tools/bin/jaeger\`, else \`jaeger\` on PATH | Jaeger v2 for \`npm run up -- --traces\` (provisioned by the bootstrap only when asked) |
| \`CHROMIUM_PATH\` | \`/usr/bin/chromium\` | Chromium for the browser tests (never a downloaded browser) |
| \`DEV_AZURE_HOST\`, \`DEV_AZURE_PUBLIC_HOST\` | \`localhost\` | dev-azure: listen host and the host in issued URLs |
| \`DEV_AZURE_PUBLIC_URL\` | \`https://<public host>:<identity port>\` | dev-azure: origin in identity URLs and issuers when an ingress fronts it (kind: \`https://login.identity.localtest.me\`) |
| \`DEV_AZURE_IDENTITY_PORT\`, \`DEV_AZURE_KEYVAULT_PORT\` | \`9443\`, \`9444\` | dev-azure: identity (B2C + Entra ID) and Key Vault ports |
| \`DEV_AZURE_DATA_DIR\` | \`.dev/dev-azure\` | dev-azure: persisted users, keys, vault state |
| \`DEV_AZURE_CONFIG\` | \`dev-azure/config/dev-azure.json\` | dev-azure: tenants, apps, flows, users, vault ([reference](dev-azure/config/README.md)) |
| \`DEV_AZURE_KEYVAULT\` | \`true\` | dev-azure: \`false\` runs the identity stand-in only |
| \`DEV_AZURE_TLS_CERT_FILE\`, \`DEV_AZURE_TLS_KEY_FILE\`, \`DEV_AZURE_CA_FILE\` | dev CA | dev-azure: TLS material (in a cluster) |
| \`DEV_AZURE_SA_TOKEN_FILE\`, \`DEV_AZURE_SERVICE_ACCOUNT\` | unset, \`identity-platform:token-broker\` | dev-azure: keep a projected service-account token in this file for that account (local workload identity) |
`;

function serviceRows(service) {
  const text = readFileSync(path.join(root, 'services', service, 'README.md'), 'utf8');
  const common = new Set([
    'NODE_ENV',
    'PORT',
    'LOG_LEVEL',
    'NATS_URL',
    'NATS_USER',
    'NATS_PASSWORD',
    'DATABASE_URL',
    'MIGRATE_ON_START',
    'SHUTDOWN_TIMEOUT_MS',
  ]);
  // Only rows of the README's variable tables (header `| Variable | ...`): other tables (endpoints,
  // error codes) also start rows with a code span.
  const rows = [];
  let inVariables = false;
  let previous = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('|') && !previous.startsWith('|'))
      inVariables = /^\|\s*variable\s*\|/i.test(line);
    else if (!line.startsWith('|')) inVariables = false;
    if (inVariables) rows.push(line);
    previous = line;
  }
  return rows
    .filter((l) => /^\| `[A-Z][A-Z0-9_]+`/.test(l))
    .filter((l) => {
      const names = [...l.split('|')[1].matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]);
      return names.some((n) => !common.has(n));
    });
}

const sections = ['portal', 'policy-api', 'scim', 'token-broker'].map(
  (s) =>
    `### ${s} ([details](services/${s}/README.md))\n\n| variable | default | meaning |\n| --- | --- | --- |\n${serviceRows(s).join('\n')}\n`,
);
const body = [common, ...sections, local].join('\n');
const readmePath = path.join(root, 'README.md');
const readme = readFileSync(readmePath, 'utf8');
const a = readme.indexOf(START);
const b = readme.indexOf(END);
if (a < 0 || b < 0) throw new Error('README.md lacks the config-reference markers');
const next = `${readme.slice(0, a + START.length)}\n${body}${readme.slice(b)}`;
if (process.argv.includes('--check')) {
  if (next !== readme) {
    console.error('README configuration reference is stale: run node scripts/config-reference.mjs');
    process.exit(1);
  }
} else {
  writeFileSync(readmePath, next);
}
