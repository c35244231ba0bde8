// Throughput of policy-api's authenticated GET /policies/me (JWT validation + database read)
// against two baselines measured in the same run, on the same machine, with the same load tool:
//   (a) a NestJS hello-world on the same Fastify adapter
//   (b) a bare node:http hello-world
// Each server runs in its own process; autocannon (50 connections) runs here. Results are
// printed, not asserted. Targets: >= 0.4 x NestJS hello, >= 0.2 x node:http, p99 < 20 ms.
// Two more policy-apis with tracing on (OTLP http/protobuf to a local receiver in its own process
// that accepts and drops every export; every request sampled, and 10 % sampled) are loaded in the
// same slices: traced / untraced target >= 0.85. Each policy-api's CPU time per request (from
// /proc, Linux) is printed too: on a shared machine it is steadier than throughput.
// Usage: npx turbo run build --filter=@idp/policy-api && node benchmarks/policy-api.bench.mjs [--json]
//   BENCH_DURATION (s per target, default 10), BENCH_ROUNDS (interleaved slices, default 5),
//   BENCH_WARMUP (s, default 3), BENCH_CONNECTIONS (default 50), BENCH_PROFILE_DIR (each
//   policy-api writes a V8 CPU profile there on exit: <dir>/{untraced,traced,sampled}/*.cpuprofile)
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, URL } from 'node:url';
import { procStat } from './proc-cpu.mjs';

const SELF = fileURLToPath(import.meta.url);
const serve = process.argv.indexOf('--serve');
if (serve !== -1) {
  await serveBaseline(process.argv[serve + 1], Number(process.argv[serve + 2]));
} else {
  await main();
}

// --- baselines (run as child processes: `--serve nest|node <port>`) ------------------------
async function serveBaseline(kind, port) {
  if (kind === 'collector') {
    // What a collector does as far as the services can tell: accept every export. In its own
    // process, so its work does not slow the load generator down for the traced targets only.
    let bytes = 0;
    process.on('message', () => process.send?.({ bytes }));
    http
      .createServer((req, res) => {
        req.on('data', (c) => (bytes += c.length));
        req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
      })
      .listen(port, '127.0.0.1', () => process.send?.('ready'));
    return;
  }
  if (kind === 'node') {
    const body = JSON.stringify({ hello: 'world' });
    http
      .createServer((_req, res) =>
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(body),
      )
      .listen(port, '127.0.0.1', () => process.send?.('ready'));
    return;
  }
  await import('reflect-metadata');
  const { Controller, Get, Module } = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  class HelloController {
    hello() {
      return { hello: 'world' };
    }
  }
  // Decorators applied by hand: this file is plain JavaScript.
  Get()(
    HelloController.prototype,
    'hello',
    Object.getOwnPropertyDescriptor(HelloController.prototype, 'hello'),
  );
  Controller()(HelloController);
  class HelloModule {}
  Module({ controllers: [HelloController] })(HelloModule);
  const app = await NestFactory.create(HelloModule, new FastifyAdapter(), { logger: false });
  await app.listen({ port, host: '127.0.0.1' });
  process.send?.('ready');
}

/** User + system CPU seconds of a process so far (Linux /proc; NaN elsewhere or without a pid). */
function cpuSeconds(pid) {
  const s = pid ? procStat(pid) : undefined;
  return s ? s.cpu : NaN;
}

// --- the benchmark -------------------------------------------------------------------------
async function main() {
  const { default: autocannon } = await import('autocannon');
  const { startPostgres, startNats, startNode, waitForHttp, freePort } =
    await import('@idp/testing');
  const JSON_OUT = process.argv.includes('--json');
  const DURATION = Number(process.env.BENCH_DURATION ?? 10);
  const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
  const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
  const root = path.resolve(path.dirname(SELF), '..');
  const entry = path.join(root, 'services', 'policy-api', 'dist', 'main.js');

  // A B2C-shaped issuer on loopback: metadata per user flow + JWKS, RS256 tokens.
  const TENANT_ID = crypto.randomUUID();
  const API_CLIENT_ID = crypto.randomUUID();
  const KID = 'bench-rs256';
  const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: KID, use: 'sig', alg: 'RS256' };
  const idp = http.createServer((req, res) => {
    const base = `http://${req.headers.host}`;
    const p = new URL(req.url ?? '/', base).pathname;
    const send = (body) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (p.endsWith('/.well-known/openid-configuration'))
      return send({
        issuer: `${base}/${TENANT_ID}/v2.0/`,
        jwks_uri: `${base}/${TENANT_ID}/discovery/v2.0/keys`,
      });
    if (p.endsWith('/discovery/v2.0/keys')) return send({ keys: [jwk] });
    res.writeHead(404).end();
  });
  await new Promise((resolve) => idp.listen(0, '127.0.0.1', resolve));
  const idpBase = `http://127.0.0.1:${idp.address().port}`;
  const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const mint = () => {
    const now = Math.floor(Date.now() / 1000);
    const oid = crypto.randomUUID();
    const input = `${b64({ alg: 'RS256', typ: 'JWT', kid: KID })}.${b64({
      ver: '1.0',
      iss: `${idpBase}/${TENANT_ID}/v2.0/`,
      aud: API_CLIENT_ID,
      sub: oid,
      oid,
      tfp: 'B2C_1_signupsignin',
      scp: 'Accounts.Read Accounts.Write',
      azp: crypto.randomUUID(),
      auth_time: now,
      iat: now,
      nbf: now,
      exp: now + 3600,
    })}`;
    return `${input}.${crypto.sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
  };
  // One user (and token) per connection, as with 50 signed-in customers.
  const tokens = Array.from({ length: CONNECTIONS }, mint);

  const [pg, nats] = await Promise.all([startPostgres(), startNats()]);
  const children = [];
  const startBaseline = async (kind) => {
    const port = await freePort();
    const child = spawn(process.execPath, [SELF, '--serve', kind, String(port)], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    children.push(child);
    await new Promise((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) => reject(new Error(`${kind} baseline exited ${code}`)));
    });
    return { url: `http://127.0.0.1:${port}/`, child, stop: async () => child.kill('SIGTERM') };
  };
  // OTLP http/protobuf to a local receiver in its own process (`--serve collector`).
  const collector = await startBaseline('collector');
  const exportedBytes = async () => {
    const reply = new Promise((resolve) => collector.child.once('message', (m) => resolve(m)));
    collector.child.send('bytes');
    return (await reply).bytes;
  };
  const tracingEnv = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url.replace(/\/$/, '') };
  // The chart's production-style sampler: new traces kept at 10 %, callers' decisions followed.
  const sampledEnv = {
    ...tracingEnv,
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: '0.1',
  };
  const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;
  const startPolicyApi = async (label, extraEnv = {}) => {
    const port = await freePort();
    const profile = PROFILE_DIR
      ? {
          NODE_OPTIONS: `--cpu-prof --cpu-prof-interval=250 --cpu-prof-dir=${path.join(PROFILE_DIR, label)}`,
        }
      : {};
    const flows = ['b2c_1_signupsignin', 'b2c_1_signupsignin_mfa'];
    const p = startNode(entry, {
      NODE_ENV: 'development',
      PORT: String(port),
      // Per-request access lines off (warn): the baselines log nothing either.
      LOG_LEVEL: 'warn',
      DATABASE_URL: await pg.createDatabase(),
      NATS_URL: nats.url,
      MIGRATE_ON_START: 'true',
      B2C_IDENTITY_METADATA: flows
        .map((f) => `${idpBase}/contoso.onmicrosoft.com/${f}/v2.0/.well-known/openid-configuration`)
        .join(','),
      API_AUDIENCE: API_CLIENT_ID,
      AUTH_ALLOW_INSECURE_HTTP: 'true',
      ...profile,
      ...extraEnv,
    });
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/readyz`, { proc: p });
    // Each user's first read creates their policy; the benchmark measures steady-state reads.
    for (const t of tokens) {
      const r = await fetch(`${base}/policies/me`, { headers: { authorization: `Bearer ${t}` } });
      if (r.status !== 200 && r.status !== 201)
        throw new Error(`GET /policies/me answered ${r.status}: ${await r.text()}`);
    }
    return {
      url: `${base}/policies/me`,
      pid: p.child.pid,
      stop: () => p.stop('SIGTERM'),
      authenticated: true,
    };
  };

  const load = (target, duration) =>
    new Promise((resolve, reject) => {
      let next = 0;
      autocannon(
        {
          url: target.url,
          connections: CONNECTIONS,
          duration,
          setupClient: target.authenticated
            ? (client) =>
                client.setHeaders({ authorization: `Bearer ${tokens[next++ % tokens.length]}` })
            : undefined,
        },
        (err, result) => (err ? reject(err) : resolve(result)),
      );
    });
  // All servers run at once but only one is loaded at a time; the measured period is split into
  // ROUNDS slices taken in turn, so a drift in background load on a shared machine hits every
  // target alike instead of skewing the ratios.
  const results = [];
  let exported = 0;
  try {
    const [bare, nest, api, traced, sampled] = [
      await startBaseline('node'),
      await startBaseline('nest'),
      await startPolicyApi('untraced'),
      await startPolicyApi('traced', tracingEnv),
      await startPolicyApi('sampled', sampledEnv),
    ];
    const targets = [
      { name: 'node:http hello', url: bare.url },
      { name: 'NestJS (Fastify) hello', url: nest.url },
      { name: 'policy-api GET /policies/me', url: api.url, pid: api.pid, authenticated: true },
      // Context only (not a target): the same process without token validation or database read.
      { name: 'policy-api GET /public', url: api.url.replace('/policies/me', '/public') },
      // Tracing on, exporting to the receiver: every request sampled, then 10 % sampled.
      {
        name: 'policy-api /policies/me traced',
        url: traced.url,
        pid: traced.pid,
        authenticated: true,
      },
      {
        name: 'policy-api traced, 10% sampled',
        url: sampled.url,
        pid: sampled.pid,
        authenticated: true,
      },
    ];
    if (WARMUP > 0) for (const t of targets) await load(t, WARMUP);
    const acc = targets.map(() => ({ requests: 0, seconds: 0, p50: [], p99: [], bad: 0, cpu: 0 }));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, t] of targets.entries()) {
        const cpu0 = cpuSeconds(t.pid);
        const r = await load(t, DURATION / ROUNDS);
        acc[i].cpu += cpuSeconds(t.pid) - cpu0;
        acc[i].requests += r.requests.total;
        acc[i].seconds += r.duration;
        acc[i].p50.push(r.latency.p50);
        acc[i].p99.push(r.latency.p99);
        acc[i].bad += r.non2xx + r.errors + r.timeouts;
      }
    }
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    for (const [i, t] of targets.entries()) {
      const a = acc[i];
      // p99: the worst slice's p99 (conservative; slices cannot be merged exactly).
      results.push({
        name: t.name,
        rps: a.requests / a.seconds,
        p50: median(a.p50),
        p99: Math.max(...a.p99),
        p99MedianSlice: median(a.p99),
        requests: a.requests,
        bad: a.bad,
        ...(t.pid ? { cpuMicrosPerRequest: (a.cpu * 1e6) / a.requests } : {}),
      });
    }
    await api.stop();
    await traced.stop();
    await sampled.stop();
    exported = await exportedBytes();
  } finally {
    for (const c of children) c.kill('SIGKILL');
    idp.close();
    await Promise.all([pg.stop(), nats.dispose()]);
  }
  const [bare, nest, api, pub, tracedResult, sampledResult] = results;
  const summary = {
    connections: CONNECTIONS,
    durationSeconds: DURATION,
    rounds: ROUNDS,
    results,
    ratios: {
      vsNestHello: api.rps / nest.rps,
      vsNodeHttp: api.rps / bare.rps,
      tracedVsUntraced: tracedResult.rps / api.rps,
      sampledVsUntraced: sampledResult.rps / api.rps,
      // The same comparisons by server CPU time per request (untraced / traced).
      tracedVsUntracedCpu: api.cpuMicrosPerRequest / tracedResult.cpuMicrosPerRequest,
      sampledVsUntracedCpu: api.cpuMicrosPerRequest / sampledResult.cpuMicrosPerRequest,
    },
    targets: { vsNestHello: 0.4, vsNodeHttp: 0.2, p99Ms: 20, tracedVsUntraced: 0.85 },
    exportedBytes: exported,
  };
  if (JSON_OUT) {
    console.log(JSON.stringify(summary, null, 2));
  } else {
    console.log(
      `policy-api benchmark: ${CONNECTIONS} connections, ${DURATION}s per target in ${ROUNDS} interleaved slices (after ${WARMUP}s warm-up each), autocannon`,
    );
    for (const r of results) {
      console.log(
        `  ${r.name.padEnd(30)} ${r.rps.toFixed(0).padStart(7)} req/s   p50 ${String(r.p50).padStart(3)} ms   p99 ${String(r.p99).padStart(3)} ms (median slice ${String(r.p99MedianSlice).padStart(3)} ms)   (${r.requests} requests, ${r.bad} errors/non-2xx)`,
      );
    }
    const mark = (ok) => (ok ? 'meets target' : 'BELOW TARGET');
    console.log(
      `  policy-api / NestJS hello   = ${summary.ratios.vsNestHello.toFixed(2)}  (target >= 0.40: ${mark(summary.ratios.vsNestHello >= 0.4)})`,
    );
    console.log(
      `  policy-api / node:http      = ${summary.ratios.vsNodeHttp.toFixed(2)}  (target >= 0.20: ${mark(summary.ratios.vsNodeHttp >= 0.2)})`,
    );
    console.log(
      `  policy-api p99              = ${api.p99} ms  (target < 20 ms: ${mark(api.p99 < 20)})`,
    );
    console.log(
      `  traced / untraced           = ${summary.ratios.tracedVsUntraced.toFixed(2)}  (target >= 0.85: ${mark(summary.ratios.tracedVsUntraced >= 0.85)}; ${(exported / 1024).toFixed(0)} KiB of spans exported)`,
    );
    console.log(
      `  traced 10% / untraced       = ${summary.ratios.sampledVsUntraced.toFixed(2)}  (parentbased_traceidratio 0.1)`,
    );
    if (Number.isFinite(summary.ratios.tracedVsUntracedCpu))
      console.log(
        `  by CPU per request: untraced ${api.cpuMicrosPerRequest.toFixed(0)} µs, traced ${tracedResult.cpuMicrosPerRequest.toFixed(0)} µs (${summary.ratios.tracedVsUntracedCpu.toFixed(2)}), 10% sampled ${sampledResult.cpuMicrosPerRequest.toFixed(0)} µs (${summary.ratios.sampledVsUntracedCpu.toFixed(2)})`,
      );
    console.log(
      `  (context: policy-api /public, no auth or DB = ${(pub.rps / nest.rps).toFixed(2)} x NestJS hello)`,
    );
  }
}
