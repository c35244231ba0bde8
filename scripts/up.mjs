#!/usr/bin/env node
// `npm run up`: the whole platform on this machine with embedded defaults.
// Provisions Node 24, nats-server and PostgreSQL (scripts/bootstrap) and runs under Node 24,
// installs and builds if needed, creates the dev CA, starts nats-server, a database,
// the Azure stand-ins, every service, and one HTTPS entry point whose routes mirror the
// Kubernetes ingress. Service logs are shown human-readable (scripts/up-logs.mjs).
// Ctrl-C stops everything; data stays in .dev/ for the next start.
import { execSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureTools, forTraces, forUp } from './bootstrap/index.mjs';

const root = path.resolve(import.meta.dirname, '..');
// UP_DATA_DIR / UP_PORT_OFFSET let a second stack (e.g. the smoke test) run beside yours.
const dev = path.resolve(process.env.UP_DATA_DIR ?? path.join(root, '.dev'));
const offset = Number(process.env.UP_PORT_OFFSET ?? 0);
const say = (m) => console.log(`[up] ${m}`);

// --traces: also Jaeger v2 (installed by the bootstrap only then), and every service exports to it.
const traces = process.argv.includes('--traces');
await ensureTools(traces ? [...forUp, ...forTraces] : forUp);
say(`node ${process.version}`);

if (!existsSync(path.join(root, 'node_modules', '.bin', 'turbo'))) {
  say('installing dependencies (npm install, versions pinned by package-lock.json)…');
  execSync('npm install --no-audit --no-fund', { cwd: root, stdio: 'inherit' });
}
if (!process.argv.includes('--no-build')) {
  say('building (turbo, cached after the first run)…');
  try {
    execSync('npx --no-install turbo run build --output-logs=errors-only', {
      cwd: root,
      stdio: 'inherit',
    });
  } catch {
    console.error('[up] the build failed (see above); nothing was started');
    process.exit(1);
  }
}

const { ensureDevCa, extraCaCerts } = await import('./dev-ca.mjs');
const { formatLine } = await import('./up-logs.mjs');
const { topology, identityProviderOf } = await import('./local-topology.mjs');
// --provider b2c|external-id (or UP_IDENTITY_PROVIDER): which customer identity provider the portal uses.
let provider;
try {
  provider = identityProviderOf();
} catch (e) {
  console.error(`[up] ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
}
const ca = await ensureDevCa();
mkdirSync(dev, { recursive: true });
// The CA folder stays private; .dev itself must be traversable by the `postgres` user.
chmodSync(dev, 0o755);

const ports = Object.fromEntries(
  Object.entries({ entry: Number(process.env.UP_PORT ?? 8443), ...topology.ports }).map(
    ([k, v]) => [k, k === 'entry' && process.env.UP_PORT ? v : v + offset],
  ),
);
const children = [];
let stopping = false;

function run(name, cmd, args, env = {}) {
  const child = spawn(cmd, args, {
    cwd: root,
    env: { ...process.env, NODE_EXTRA_CA_CERTS: extraCaCerts(ca.caCertPath), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = `${name.padEnd(12)}| `;
  const pipe = (stream, out) => {
    let buf = '';
    stream.on('data', (d) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop();
      for (const l of lines) out.write(prefix + formatLine(l) + '\n');
    });
  };
  pipe(child.stdout, process.stdout);
  pipe(child.stderr, process.stderr);
  child.on('exit', (code, sig) => {
    if (!stopping) {
      say(`${name} exited (${code ?? sig}); stopping everything`);
      void shutdown(1);
    }
  });
  children.push({ name, child });
  return child;
}

// This process started before the CA existed, so it passes the CA explicitly.
const status = (url) =>
  new Promise((resolve) => {
    const get = url.startsWith('https:') ? https.get : http.get;
    const req = get(url, { ca: ca.caPem, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });

async function waitHttp(url, name) {
  const deadline = Date.now() + 90000;
  while (Date.now() < deadline) {
    if ((await status(url)) === 200) return;
    await sleep(250);
  }
  throw new Error(`${name} did not become ready at ${url}`);
}

// A SCIM directory and token to try provisioning locally (Entra's "Tenant URL" and "Secret
// Token"): created with the service's admin CLI, the token kept in <data dir>/scim-token (0600)
// and reused while the service accepts it. Where the token is, not the token, is printed.
const SCIM_DEMO_DIRECTORY = 'demo';
async function ensureScimDemoToken(databaseUrl) {
  const file = path.join(dev, 'scim-token');
  const inRepo = path.relative(root, file);
  const shown = inRepo.startsWith('..') ? file : inRepo;
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    const res = await fetch(`http://127.0.0.1:${ports.scim}/scim/v2/Users?count=0`, {
      headers: { authorization: `Bearer ${token}` },
    }).catch(() => undefined);
    if (res?.status === 200) return shown;
  }
  const cli = (...args) =>
    spawnSync(process.execPath, ['services/scim/dist/cli/admin-cli.js', ...args], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: databaseUrl },
      encoding: 'utf8',
    });
  if (cli('directory', 'show', SCIM_DEMO_DIRECTORY).status !== 0)
    cli('directory', 'create', SCIM_DEMO_DIRECTORY);
  const created = cli('token', 'create', SCIM_DEMO_DIRECTORY, 'npm run up');
  if (created.status !== 0) {
    // At the directory's token cap, say so and go on: the stack itself is up.
    say(`no SCIM token for directory "${SCIM_DEMO_DIRECTORY}": ${created.stderr.trim()}`);
    return 'none (see above)';
  }
  writeFileSync(file, `${JSON.parse(created.stdout).token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return shown;
}

async function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  say('stopping…');
  // Reverse start order: entry point and services first, then stand-ins, NATS, database.
  for (const { name, child, stop } of [...children].reverse()) {
    if (stop) {
      await stop();
      say(`${name} stopped`);
      continue;
    }
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill('SIGTERM');
    const done = new Promise((r) => child.once('exit', r));
    const timeout = sleep(15000).then(() => child.kill('SIGKILL'));
    await Promise.race([done, timeout]);
    say(`${name} stopped`);
  }
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

try {
  // Database: DATABASE_URL (a real server) or a persistent local PostgreSQL in .dev/postgres.
  const require = createRequire(path.join(root, 'packages/testing/package.json'));
  const { natsServerBinary, startPostgres } = require('@idp/testing');
  let dbBase = process.env.DATABASE_URL;
  if (!dbBase) {
    // The same launcher the tests use, kept in <data dir>/postgres; it says how to install PostgreSQL if missing.
    const pg = await startPostgres({ dir: path.join(dev, 'postgres'), port: ports.postgres });
    children.push({ name: 'postgres', stop: pg.stop });
    dbBase = pg.url;
    say(
      `PostgreSQL on 127.0.0.1:${ports.postgres} (data in ${path.relative(root, dev) || dev}/postgres)`,
    );
  }
  const { Client } = require('pg');
  const dbUrl = (name) => {
    const u = new URL(dbBase);
    u.pathname = `/${name}`;
    return u.toString();
  };
  const admin = new Client({ connectionString: dbBase });
  await admin.connect();
  for (const db of topology.databases) {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
    if (!rowCount) await admin.query(`CREATE DATABASE "${db}"`);
  }
  await admin.end();

  // NATS with JetStream and one user per service (the same permissions the Helm chart sets).
  const natsConf = path.join(dev, 'nats.conf');
  writeFileSync(
    natsConf,
    topology.natsConfig({ port: ports.nats, storeDir: path.join(dev, 'nats') }),
  );
  run('nats', natsServerBinary(), ['-c', natsConf]);

  // Azure stand-ins (identity + Key Vault), HTTPS with the dev CA.
  run(
    'dev-azure',
    process.execPath,
    ['dev-azure/dist/main.js'],
    topology.devAzureEnv({ ports, dev, ca }),
  );
  await waitHttp(`https://localhost:${ports.identity}/healthz`, 'dev-azure');

  if (traces) {
    // Jaeger's all-in-one default: OTLP in, in-memory storage, the UI; fixed ports (not offset).
    run('jaeger', process.env.JAEGER_BIN ?? 'jaeger', []);
    await waitHttp(topology.jaeger.healthUrl, 'jaeger');
  }
  const tracesEnv = traces ? topology.jaeger.serviceEnv : {};
  for (const svc of topology.services) {
    // --watch: restart a service when its build output changes (pair with `npx turbo run dev`).
    const watch = process.argv.includes('--watch') ? ['--watch'] : [];
    run(svc.name, process.execPath, [...watch, `services/${svc.name}/dist/main.js`], {
      ...svc.env({ ports, dev, dbUrl, ca, provider }),
      ...tracesEnv,
    });
  }
  for (const svc of topology.services)
    await waitHttp(`http://127.0.0.1:${ports[svc.name]}/readyz`, svc.name);

  const scimToken = await ensureScimDemoToken(dbUrl('scim'));

  run('entry', process.execPath, ['scripts/entry-proxy.mjs'], {
    ENTRY_PORT: String(ports.entry),
    ENTRY_TLS_CERT: ca.certPath,
    ENTRY_TLS_KEY: ca.keyPath,
    ENTRY_ROUTES: JSON.stringify(topology.routes(ports)),
  });
  await waitHttp(`https://localhost:${ports.entry}/healthz`, 'entry');

  const providerName =
    provider === 'external-id' ? 'Entra External ID (contosoext)' : 'Azure AD B2C (contoso)';
  console.log(`
  Identity platform is up (Ctrl-C to stop; data stays in ${path.relative(root, dev) || dev}/).

    Portal        https://localhost:${ports.entry}/
    Policy API    https://localhost:${ports.entry}/api/public   (OpenAPI: /api/openapi.json)
    SCIM          https://localhost:${ports.entry}/scim/v2   (directory "${SCIM_DEMO_DIRECTORY}"; its bearer token: ${scimToken})
    Sign-in       ${providerName}, https://localhost:${ports.identity}/   (local stand-in; the other provider: --provider ${provider === 'b2c' ? 'external-id' : 'b2c'})
    Key Vault     https://localhost:${ports.keyVault}/   (local stand-in)${traces ? `\n    Traces        ${topology.jaeger.uiUrl}   (Jaeger)` : ''}

  Demo accounts (${providerName}): ${topology.demoUsers(provider).join(', ')}${
    provider === 'external-id'
      ? '\n  One-time codes (sign-up, password reset, step-up): https://localhost:' +
        ports.identity +
        '/_dev/mailbox'
      : ''
  }
  Trust the dev CA in your browser: ${ca.caCertPath}
`);
} catch (e) {
  console.error(`[up] ${e instanceof Error ? e.message : String(e)}`);
  await shutdown(1);
}
