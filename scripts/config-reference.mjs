#!/usr/bin/env node
// Regenerates the README's configuration reference from the zod schemas the services validate
// their environment with: each service's `envSchema` (services/<name>/src/config.ts, loaded from
// its dist/config.js, so build first) and service-kit's `commonEnvShape`. A variable's meaning is
// its `.describe('…')` text; its default and whether it is required come from parsing an unset
// value with its schema; development-only switches are marked from service-kit's devOnly registry.
// The OpenTelemetry variables (read by the SDK, not by zod) and the local-stack ones are written
// below. Fails, naming them, when a service exports no envSchema or a variable has no description.
// test/config/config-reference.spec.ts runs `--check`.
// Usage: node scripts/config-reference.mjs [--check]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const START = '<!-- config-reference:start -->';
const END = '<!-- config-reference:end -->';
const SERVICES = ['portal', 'policy-api', 'scim', 'token-broker'];

/** Variables the OpenTelemetry SDK reads itself (service-kit only decides whether to start it). */
const otel = `| \`OTEL_EXPORTER_OTLP_ENDPOINT\` / \`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT\` | unset | OTLP collector (e.g. \`http://otel-collector:4318\`). Tracing starts only when one of these (or \`OTEL_TRACES_EXPORTER\`) is set; unset = no SDK loaded at all |
| \`OTEL_EXPORTER_OTLP_PROTOCOL\` / \`OTEL_EXPORTER_OTLP_TRACES_PROTOCOL\` | \`http/protobuf\` | \`http/protobuf\`, \`http/json\` or \`grpc\` |
| \`OTEL_EXPORTER_OTLP_HEADERS\`, \`OTEL_EXPORTER_OTLP_TIMEOUT\`, \`OTEL_EXPORTER_OTLP_COMPRESSION\` | unset | Standard OTLP exporter settings (e.g. an auth header for a hosted backend) |
| \`OTEL_TRACES_EXPORTER\` | \`otlp\` when an endpoint is set, else \`none\` | \`otlp\`, \`console\` (debugging) or \`none\` |
| \`OTEL_SDK_DISABLED\` | \`false\` | \`true\` turns tracing off whatever else is set |
| \`OTEL_SERVICE_NAME\`, \`OTEL_RESOURCE_ATTRIBUTES\` | the service's name (\`policy-api\`, …) | Resource attributes of every span (e.g. \`deployment.environment.name=prod\`) |
| \`OTEL_TRACES_SAMPLER\`, \`OTEL_TRACES_SAMPLER_ARG\` | \`parentbased_always_on\` | e.g. \`parentbased_traceidratio\` and \`0.1\` to keep 10% of new traces (an in-cluster caller's sampled flag is honoured; a request through the ingress starts its own trace, its traceparent kept as a span link) |
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

const problems = [];
const HEADER = '| variable | default | meaning |\n| --- | --- | --- |';

/** Each service's envSchema and service-kit (loaded the way the service loads it: one registry). */
function load() {
  const schemas = {};
  let kit;
  for (const service of SERVICES) {
    const file = path.join(root, 'services', service, 'dist', 'config.js');
    if (!existsSync(file)) {
      problems.push(
        `services/${service}/dist/config.js is missing: build first (npx turbo run build --filter=@idp/${service})`,
      );
      continue;
    }
    const require = createRequire(file);
    kit ??= require('@idp/service-kit');
    const mod = require(file);
    const schema = mod.envSchema;
    if (!schema || typeof schema !== 'object' || !schema.shape) {
      problems.push(
        `services/${service}/src/config.ts exports no envSchema (its zod object schema of the environment); exports: ${Object.keys(mod).join(', ') || 'none'}`,
      );
      continue;
    }
    schemas[service] = schema;
  }
  return { schemas, kit };
}

const code = (v) => `\`${v}\``;
const cell = (text) => text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');

/**
 * A description as Markdown: code spans the author wrote are kept; in the rest, URLs and the names
 * of variables become code spans, and `<`, `*` are escaped (placeholders such as <tenant> would
 * otherwise be taken for HTML, B2C_* … EXTERNAL_ID_* for emphasis).
 */
function markdown(text, names) {
  const token =
    /(`[^`]*`)|\b([a-z][a-z0-9+.-]*:\/\/(?:<[^<>]*>|[^\s,;()<>])+)|(?<![<{\w])([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+(?:=[\w.-]*\w)?)(?![>}\w])/g;
  let out = '';
  let last = 0;
  for (const m of text.matchAll(token)) {
    const [whole, span, url, name] = m;
    out += escape(text.slice(last, m.index));
    if (span) out += span;
    else if (url) {
      // A sentence's full stop or colon after a URL is not part of it.
      const [, bare, tail] = /^(.*?)([.:]*)$/.exec(url);
      out += code(bare) + tail;
    } else out += name && names.has(name.split('=')[0]) ? code(name) : escape(whole);
    last = m.index + whole.length;
  }
  return out + escape(text.slice(last));
}
const escape = (plain) => plain.replace(/[<*]/g, (c) => `\\${c}`);

/** The default column: what an unset variable parses to, or that it is required. */
function defaultOf(field) {
  const r = field.safeParse(undefined);
  if (!r.success) return '— (required)';
  const v = r.data;
  if (v === undefined) return 'unset';
  if (Array.isArray(v)) return v.length ? code(v.join(',')) : 'empty';
  if (v === '') return 'empty';
  return code(String(v));
}

/** A field's description; a service's override of a common variable inherits the common one. */
function describe(field, common) {
  const own = field.description?.trim();
  return own || common?.description?.trim() || undefined;
}

function meaning(text, devOnlyRule) {
  if (!devOnlyRule || /production|development[ -]only/i.test(text)) return text;
  return `${text} Development only: refused when NODE_ENV=production.`;
}

const { schemas, kit } = load();
if (problems.length === 0) {
  const { commonEnvShape } = kit;
  for (const [name, field] of Object.entries(commonEnvShape))
    if (!describe(field)) problems.push(`service-kit commonEnvShape.${name} has no .describe()`);
  for (const [service, schema] of Object.entries(schemas))
    for (const [name, field] of Object.entries(schema.shape))
      if (!describe(field, commonEnvShape[name]))
        problems.push(
          `services/${service}/src/config.ts: ${name} has no .describe('…') (what it is, its unit, when it applies)`,
        );
}
if (problems.length > 0) {
  console.error(`config-reference: cannot generate the README configuration reference:`);
  for (const p of problems) console.error(`  - ${p}`);
  process.exit(1);
}

const { commonEnvShape, devOnlyVariables } = kit;
/** Every variable name: written as code wherever a description mentions one. */
const names = new Set(Object.values(schemas).flatMap((s) => Object.keys(s.shape)));

/** Every service: one row per common variable, its default per service where they differ. */
function commonSection() {
  const rows = Object.entries(commonEnvShape).map(([name, field]) => {
    const readers = SERVICES.filter((s) => schemas[s].shape[name]);
    const defaults = readers.map((s) => [s, defaultOf(schemas[s].shape[name])]);
    const same = defaults.every(([, d]) => d === defaults[0]?.[1]);
    let def = same
      ? (defaults[0]?.[1] ?? defaultOf(field))
      : `per service (${defaults.map(([s, d]) => `${s} ${d}`).join(', ')})`;
    const others = SERVICES.filter((s) => !readers.includes(s));
    if (others.length) def += `; not read by ${others.join(', ')}`;
    return `| ${code(name)} | ${cell(def)} | ${cell(markdown(describe(field), names))} |`;
  });
  return `### Every service (\`@idp/service-kit\`)\n\n${HEADER}\n${rows.join('\n')}\n${otel}`;
}

/** A service's own variables, in schema order (common ones only when it describes them anew). */
function serviceSection(service) {
  const schema = schemas[service];
  const devOnly = devOnlyVariables(schema);
  const rows = [];
  for (const [name, field] of Object.entries(schema.shape)) {
    const common = commonEnvShape[name];
    const text = describe(field, common);
    if (common && text === describe(common)) continue;
    rows.push(
      `| ${code(name)} | ${cell(defaultOf(field))} | ${cell(markdown(meaning(text, devOnly.get(name)), names))} |`,
    );
  }
  return `### ${service} ([details](services/${service}/README.md))\n\n${HEADER}\n${rows.join('\n')}\n`;
}

const body = [commonSection(), ...SERVICES.map(serviceSection), local].join('\n');
const readmePath = path.join(root, 'README.md');
const readme = readFileSync(readmePath, 'utf8');
const a = readme.indexOf(START);
const b = readme.indexOf(END);
if (a < 0 || b < 0) throw new Error('README.md lacks the config-reference markers');
const next = `${readme.slice(0, a + START.length)}\n${body}${readme.slice(b)}`;
if (process.argv.includes('--check')) {
  if (next !== readme) {
    console.error(
      'README configuration reference is stale: run node scripts/config-reference.mjs (after a build)',
    );
    process.exit(1);
  }
} else {
  writeFileSync(readmePath, next);
}
