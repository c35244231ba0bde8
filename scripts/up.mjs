#!/usr/bin/env node
// `npm run up`: the whole platform on this machine with embedded defaults.
// Provisions Node 24, nats-server and PostgreSQL (scripts/bootstrap) and runs under Node 24,
// installs and builds if needed, creates the dev CA, starts nats-server, a database,
// the Azure stand-ins, every service, and one HTTPS entry point whose routes mirror the
// Kubernetes ingress. Service logs are shown human-readable (scripts/up-logs.mjs).
// Ctrl-C stops everything; data stays in .dev/ for the next start.
import { execSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ensureTools, forTraces, forUp } from './bootstrap/index.mjs';

const root = path.resolve(import.meta.dirname, '..');
const say = (m) => console.log(`[up] ${m}`);
const USAGE = 'usage: npm run up [-- --provider b2c|external-id] [--traces] [--watch] [--no-build]';

// Checked before anything is installed, built or started: a typo (`--trace`, `--no-buld`) was
// ignored silently and the stack came up without what was asked for.
let flags;
try {
  flags = parseArgs({
    options: {
      provider: { type: 'string' },
      traces: { type: 'boolean' },
      watch: { type: 'boolean' },
      'no-build': { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  }).values;
} catch (e) {
  console.error(`[up] ${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
  process.exit(2);
}

// UP_DATA_DIR / UP_PORT_OFFSET let a second stack (e.g. the smoke test) run beside yours.
const dev = path.resolve(process.env.UP_DATA_DIR || path.join(root, '.dev'));
const envPort = (name, def) => {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? def : Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`[up] ${name}=${JSON.stringify(raw)} is not a port number (0-65535)`);
    process.exit(2);
  }
  return n;
};
const offset = envPort('UP_PORT_OFFSET', 0);
const entryPort = envPort('UP_PORT', 8443);

// --traces: also Jaeger v2 (installed by the bootstrap only then), and every service exports to it.
const traces = flags.traces === true;
await ensureTools(traces ? [...forUp, ...forTraces] : forUp);
say(`node ${process.version}`);

if (!existsSync(path.join(root, 'node_modules', '.bin', 'turbo'))) {
  say('installing dependencies (npm install, versions pinned by package-lock.json)…');
  execSync('npm install --no-audit --no-fund', { cwd: root, stdio: 'inherit' });
}
// One stack per data directory: a second `up` on the same .dev would share its PostgreSQL data,
// NATS store and ports. The lock names the running one; a lock whose process is gone is stale.
const lockFile = path.join(dev, 'up.pid');
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
};
mkdirSync(dev, { recursive: true });
// The lock: this process's pid, then one `<pid> <name> <marker>` line per process it started.
const [heldLine = '', ...startedLines] = existsSync(lockFile)
  ? readFileSync(lockFile, 'utf8').trim().split('\n')
  : [];
const held = Number(heldLine);
if (Number.isInteger(held) && held > 0 && held !== process.pid && alive(held)) {
  console.error(
    `[up] another \`npm run up\` (pid ${held}) is running on ${dev}: stop it (Ctrl-C there), or run this one beside it with UP_DATA_DIR=<another dir> UP_PORT_OFFSET=<n>`,
  );
  process.exit(1);
}
// An `up` that was killed (kill -9, a closed terminal, a crash) leaves what it started running,
// holding the ports and the data: name those processes instead of failing on a busy port. A pid is
// only counted while its command line still names what was started (pids are reused).
const stillRunning = (pid, marker) => {
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
  } catch {
    return !existsSync('/proc/self'); // no /proc (macOS): trust the pid
  }
};
const leftovers = startedLines
  .map((l) => l.split(' '))
  .filter(([pid, , marker]) => marker && stillRunning(Number(pid), marker))
  .map(([pid, name]) => ({ pid, name }));
const postmaster = path.join(dev, 'postgres', 'data', 'postmaster.pid');
if (existsSync(postmaster)) {
  const pid = readFileSync(postmaster, 'utf8').split('\n')[0];
  if (stillRunning(Number(pid), 'postgres')) leftovers.push({ pid, name: 'postgres' });
}
if (leftovers.length) {
  console.error(
    `[up] an earlier \`npm run up\` on ${dev} ended without stopping what it started; still running: ${leftovers.map((x) => `${x.name} (pid ${x.pid})`).join(', ')}. Stop them (kill ${leftovers.map((x) => x.pid).join(' ')}), then start again`,
  );
  process.exit(1);
}
const started = [];
const writeLock = () => writeFileSync(lockFile, [process.pid, ...started].join('\n') + '\n');
writeLock();
const releaseLock = () => {
  try {
    if (readFileSync(lockFile, 'utf8').split('\n')[0] === String(process.pid)) rmSync(lockFile);
  } catch {
    /* already gone */
  }
};
process.on('exit', releaseLock);
// Until the stack starts, Ctrl-C (or a kill) ends this process and its install/build children.
const early = (sig) => () => {
  releaseLock();
  process.exit(sig === 'SIGINT' ? 130 : 143);
};
const earlyInt = early('SIGINT');
const earlyTerm = early('SIGTERM');
process.on('SIGINT', earlyInt);
process.on('SIGTERM', earlyTerm);

if (!flags['no-build']) {
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

const ports = Object.fromEntries(
  Object.entries({ entry: entryPort, ...topology.ports }).map(([k, v]) => [
    k,
    k === 'entry' && process.env.UP_PORT ? v : v + offset,
  ]),
);
const outOfRange = Object.entries(ports).filter(([, p]) => p < 1 || p > 65535);
if (outOfRange.length) {
  console.error(
    `[up] UP_PORT_OFFSET=${offset} puts ${outOfRange.map(([k, p]) => `${k} on ${p}`).join(', ')}: outside 1-65535`,
  );
  process.exit(2);
}
const clash = Object.entries(ports).filter(([k, p]) =>
  Object.entries(ports).some(([k2, p2]) => k2 !== k && p2 === p),
);
if (clash.length) {
  console.error(
    `[up] ${clash.map(([k, p]) => `${k} on ${p}`).join(', ')}: one port each (UP_PORT is the HTTPS entry point's; the others are UP_PORT_OFFSET + their defaults)`,
  );
  process.exit(2);
}
// Every port is checked before anything starts: a port taken by another program (or another
// stack) failed late as "<service> exited (1)", and a readiness probe could even be answered by
// whatever else listened there.
const taken = (port) =>
  new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', (e) => resolve(e.code === 'EADDRINUSE' || e.code === 'EACCES'));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () =>
      probe.close(() => resolve(false)),
    );
  });
const busy = [];
for (const [name, port] of Object.entries(ports)) {
  // The database is not ours to start when DATABASE_URL names one.
  if (name === 'postgres' && process.env.DATABASE_URL) continue;
  if (await taken(port)) busy.push(`${port} (${name})`);
}
if (busy.length) {
  console.error(
    `[up] port${busy.length > 1 ? 's' : ''} ${busy.join(', ')} already in use on 127.0.0.1: stop what listens there, or move this stack with UP_PORT_OFFSET=<n> (UP_PORT for the HTTPS entry point); nothing was started`,
  );
  process.exit(1);
}

const ca = await ensureDevCa();
// The CA folder stays private; .dev itself must be traversable by the `postgres` user.
chmodSync(dev, 0o755);

const children = [];
let stopping = false;
// The start step in progress (e.g. PostgreSQL coming up): a Ctrl-C waits for it, so what it
// starts is stopped too instead of being left running.
let inflight = Promise.resolve();
const step = (p) => {
  inflight = p.catch(() => undefined);
  return p;
};

function run(name, cmd, args, env = {}) {
  if (stopping) throw new Error('stopping');
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
  // Recorded for the next start, should this process die without stopping its children.
  if (child.pid) {
    started.push(`${child.pid} ${name} ${args.at(-1) ?? cmd}`);
    writeLock();
  }
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
  await inflight;
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
process.off('SIGINT', earlyInt);
process.off('SIGTERM', earlyTerm);
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

try {
  // Database: DATABASE_URL (a real server) or a persistent local PostgreSQL in .dev/postgres.
  const require = createRequire(path.join(root, 'packages/testing/package.json'));
  const { natsServerBinary, startPostgres } = require('@idp/testing');
  let dbBase = process.env.DATABASE_URL;
  if (!dbBase) {
    // The same launcher the tests use, kept in <data dir>/postgres; it says how to install PostgreSQL if missing.
    const pg = await step(startPostgres({ dir: path.join(dev, 'postgres'), port: ports.postgres }));
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
  // A database that goes away under it (Ctrl-C stops PostgreSQL) fails the step, not the process.
  admin.on('error', () => undefined);
  await step(
    (async () => {
      await admin.connect();
      for (const db of topology.databases) {
        const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [
          db,
        ]);
        if (!rowCount) await admin.query(`CREATE DATABASE "${db}"`);
      }
      await admin.end();
    })(),
  );

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
    const watch = flags.watch ? ['--watch'] : [];
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
  // A start step cut short by Ctrl-C is not an error of its own.
  if (!stopping) console.error(`[up] ${e instanceof Error ? e.message : String(e)}`);
  await shutdown(stopping ? 0 : 1);
}
