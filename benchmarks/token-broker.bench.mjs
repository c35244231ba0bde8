// The token broker over NATS, offline (dev-azure identity + Key Vault stand-ins, real nats-server):
//   (a) cache-hit `tokens.acquire` throughput and p99 at 8 and 32 requests in flight, against a
//       bare NATS echo (plain subscription, msg.respond) answering a reply of the same size, in
//       the same run and with the same client (target ratio >= 0.5 at every load);
//   (b) Key Vault sign calls per 10,000 requests for one scope (target: 1 + scheduled refreshes);
//   (c) cold-path latency split into certificate read, Key Vault sign and token endpoint.
// Usage: npx turbo run build && NODE_EXTRA_CA_CERTS=.dev/ca/ca.pem node benchmarks/token-broker.bench.mjs [--strict] [--json]
// (or `npm run bench -- token-broker`, which builds and sets the CA). BENCH_QUICK=1: a smaller
// run with the same shape (development); BENCH_REQUESTS, BENCH_ROUNDS, BENCH_CONCURRENCY
// (comma-separated, default 8,32), BENCH_COLD override. Profile the broker's hot path with
// `node --cpu-prof benchmarks/token-broker.bench.mjs` (broker, client and echo share the process).
import 'reflect-metadata';
import {
  contractHeaders,
  decode,
  encode,
  ensureStreams,
  tokensAcquireSubject,
  TokensAcquire,
} from '@idp/contracts';
import { startNats } from '@idp/testing';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { TextEncoder } from 'node:util';
import { Registry } from 'prom-client';
import { startDevAzure } from '@idp/dev-azure';
import { NATS_CONNECTION } from '@idp/service-kit';
import { Test } from '@nestjs/testing';
import { AuditPublisher } from '../services/token-broker/dist/audit/audit-publisher.js';
import { BrokerModule } from '../services/token-broker/dist/broker/broker.module.js';
import {
  AUDIT_INBOX_PREFIX,
  CLOCK,
  ENTRA_FETCH,
  KEY_VAULT_CREDENTIAL,
  METRICS_REGISTRY,
} from '../services/token-broker/dist/broker/broker.tokens.js';
import { loadTokenBrokerConfig } from '../services/token-broker/dist/config.js';
import { KeyVaultSigner } from '../services/token-broker/dist/keyvault/key-signer.js';
import { AcquireService } from '../services/token-broker/dist/nats/acquire-service.js';

const STRICT = process.argv.includes('--strict');
const JSON_OUT = process.argv.includes('--json');
const QUICK = process.env.BENCH_QUICK === '1' || process.env.BENCH_QUICK === 'true';
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? (QUICK ? 3000 : 20000));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '8,32').split(',').map(Number);
const COLD = Number(process.env.BENCH_COLD ?? (QUICK ? 5 : 20));
const log = (...a) => !JSON_OUT && console.log(...a);

// --- ids from the dev-azure seed -------------------------------------------
const dataDir = mkdtempSync(join(tmpdir(), 'token-broker-bench-'));
const dev = await startDevAzure({ dataDir });
const tenant = (n) => dev.config.tenants.find((t) => t.name === n);
const app = (t, n) => tenant(t).apps.find((a) => a.name === n);
const SCOPE = 'api://policy-api/.default';
const doc = {
  registrations: [
    {
      name: 'policy-daemon',
      tenantId: tenant('contoso').id,
      clientId: app('fabrikam', 'policy-daemon-kv').clientId,
      certificateName: 'policy-daemon',
      assertionAlgorithm: 'PS256',
    },
  ],
  callers: { bench: [{ registration: 'policy-daemon', scopes: [SCOPE] }] },
};

// --- NATS with per-service users, as in production ---------------------------
const nats = await startNats({
  config: `authorization { users = [
    { user: "token-broker", password: "b", permissions: { publish: { allow: ["tokens.issued.>", "$JS.API.INFO", "$JS.API.STREAM.INFO.TOKENS", "$JS.API.STREAM.CREATE.TOKENS", "$JS.API.STREAM.UPDATE.TOKENS", "_INBOX.>"] }, subscribe: { allow: ["tokens.acquire.v1.*", "echo.v1.*", "$SRV.PING", "$SRV.INFO", "$SRV.STATS", "$SRV.*.token-broker", "$SRV.*.token-broker.*", "_INBOX.>"] }, allow_responses: true } }
    { user: "bench", password: "c", permissions: { publish: { allow: ["tokens.acquire.v1.bench", "echo.v1.bench"] }, subscribe: { allow: ["_INBOX.bench.>"] } } }
  ] }`,
});
const tokenFile = join(dataDir, 'sa', 'token');
await dev.clusterIssuer.writeServiceAccountToken(tokenFile, 'identity-platform', 'token-broker');

// --- the broker, in process so its clock can be moved for cold requests ----
// The broker's own Nest providers (BrokerModule), configured as the process would be.
const config = loadTokenBrokerConfig({
  NODE_ENV: 'test',
  NATS_URL: nats.url,
  KEY_VAULT_URL: dev.keyVaultUrl,
  KEY_VAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION: 'true',
  AZURE_CREDENTIAL: 'workload',
  AZURE_AUTHORITY_HOST: dev.authorityHost,
  AZURE_TENANT_ID: tenant('fabrikam').id,
  AZURE_CLIENT_ID: app('fabrikam', 'token-broker').clientId,
  AZURE_FEDERATED_TOKEN_FILE: tokenFile,
  TOKEN_BROKER_CONFIG: JSON.stringify(doc),
  UPSTREAM_RETRY_ATTEMPTS: '4',
  REPLICATION_RETRY_ATTEMPTS: '5',
  RETRY_BASE_DELAY_MS: '200',
  RETRY_MAX_DELAY_MS: '5000',
  REFRESH_MARGIN_SECONDS: '300',
});
const timings = { sign: [], token: [] };
// Timed around a KeyVaultSigner on the module's Key Vault credential (created once the module is).
let realSigner;
const kvSigner = () =>
  (realSigner ??= new KeyVaultSigner(moduleRef.get(KEY_VAULT_CREDENTIAL), config));
const signer = {
  async sign(keyId, alg, digest) {
    const t = performance.now();
    try {
      return await kvSigner().sign(keyId, alg, digest);
    } finally {
      timings.sign.push(performance.now() - t);
    }
  },
};
// Node's global fetch (undici, keep-alive), as the broker uses it.
const nodeFetch = globalThis.fetch;
const timedFetch = async (url, init) => {
  const t = performance.now();
  try {
    return await nodeFetch(url, init);
  } finally {
    timings.token.push(performance.now() - t);
  }
};
let offset = 0;
const brokerNc = await connect({ servers: nats.url, user: 'token-broker', pass: 'b' });
await ensureStreams(await jetstreamManager(brokerNc), ['TOKENS']);
// What service-kit provides in the app: the broker's NATS connection (a global module).
class BenchNats {}
const moduleRef = await Test.createTestingModule({
  imports: [
    {
      module: BenchNats,
      global: true,
      providers: [{ provide: NATS_CONNECTION, useValue: brokerNc }],
      exports: [NATS_CONNECTION],
    },
    BrokerModule.forRoot(config),
  ],
})
  .overrideProvider(KeyVaultSigner)
  .useValue(signer)
  .overrideProvider(ENTRA_FETCH)
  .useValue(timedFetch)
  .overrideProvider(CLOCK)
  .useValue(() => Date.now() + offset)
  .overrideProvider(METRICS_REGISTRY)
  .useValue(new Registry())
  .overrideProvider(AUDIT_INBOX_PREFIX)
  .useValue('_INBOX')
  .compile();
await moduleRef.init();
const service = moduleRef.get(AcquireService);
await service.start('0.1.0');
const broker = { audit: moduleRef.get(AuditPublisher) };

// The baseline: a bare NATS echo. A plain queue subscription on its own connection answering
// with msg.respond (no services framework, no parsing): what this client and server reach at
// all. Its reply is exactly as many bytes as the broker's cache-hit reply, and the client does
// the same, minimal work for both (the same request bytes and contract header; the reply's size
// checked, which tells a refusal from the token), so the ratio is the broker's own cost.
const client = await connect({
  servers: nats.url,
  user: 'bench',
  pass: 'c',
  inboxPrefix: '_INBOX.bench',
});
const requestBytes = encode(TokensAcquire, TokensAcquire.request, {
  registration: 'policy-daemon',
  scope: SCOPE,
});
const requestHeaders = contractHeaders(TokensAcquire);
let replyBytes = 0;
const call = async (subject) => {
  const msg = await client.request(subject, requestBytes, {
    timeout: 30000,
    headers: requestHeaders,
  });
  if (msg.data.length !== replyBytes) throw new Error(`unexpected reply: ${msg.string()}`);
};
const acquire = () => call(tokensAcquireSubject('bench'));
/** A request whose reply is decoded with the contract (cold path, first request): any size. */
const acquireChecked = async () => {
  const msg = await client.request(tokensAcquireSubject('bench'), requestBytes, {
    timeout: 30000,
    headers: requestHeaders,
  });
  if (!decode(TokensAcquire, TokensAcquire.reply, msg.data).ok)
    throw new Error(`broker refused: ${msg.string()}`);
  return msg.data.length;
};
const echoOnce = () => call('echo.v1.bench');

async function load(op, n, concurrency) {
  const lat = new Float64Array(n);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) {
        const t = performance.now();
        await op();
        lat[i] = performance.now() - t;
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  lat.sort();
  return { rps: n / secs, p50: lat[Math.floor(n * 0.5)], p99: lat[Math.floor(n * 0.99)] };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// (b) sign calls for 10,000 requests (any run size), from cold.
const signsBefore = dev.keyVault.stats().signCount;
replyBytes = await acquireChecked();
await load(acquire, 10000 - 1, 32);
const signsPer10k = dev.keyVault.stats().signCount - signsBefore;

const echoNc = await connect({ servers: nats.url, user: 'token-broker', pass: 'b' });
const echoReply = new TextEncoder().encode(
  JSON.stringify({ ok: true, accessToken: '', tokenType: 'Bearer', expiresOn: 1 }),
);
const echoPayload = new TextEncoder().encode(
  JSON.stringify({
    ok: true,
    accessToken: 'x'.repeat(replyBytes - echoReply.length),
    tokenType: 'Bearer',
    expiresOn: 1,
  }),
);
echoNc.subscribe('echo.v1.*', { queue: 'echo', callback: (_err, msg) => msg.respond(echoPayload) });
await echoNc.flush();

// (a) hit throughput vs echo at each load, alternating rounds (both warmed first).
await load(echoOnce, 1000, 32);
await load(acquire, 1000, 32);
const hit = {};
for (const c of CONCURRENCY) {
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++)
    rounds.push({
      broker: await load(acquire, REQUESTS, c),
      echo: await load(echoOnce, REQUESTS, c),
    });
  const b = {
    rps: median(rounds.map((r) => r.broker.rps)),
    p99: median(rounds.map((r) => r.broker.p99)),
  };
  const e = {
    rps: median(rounds.map((r) => r.echo.rps)),
    p99: median(rounds.map((r) => r.echo.p99)),
  };
  // Ratio per round (broker and echo measured back to back), then the median: less sensitive to a noisy neighbour.
  const ratio = median(rounds.map((r) => r.broker.rps / r.echo.rps));
  hit[c] = {
    broker: { rps: Math.round(b.rps), p99Ms: +b.p99.toFixed(2) },
    echo: { rps: Math.round(e.rps), p99Ms: +e.p99.toFixed(2) },
    ratio: +ratio.toFixed(3),
  };
}
await broker.audit.flush();
const minRatio = Math.min(...Object.values(hit).map((h) => h.ratio));

// (c) cold path: move the clock past expiry before each request.
timings.sign.length = 0;
timings.token.length = 0;
const cold = [];
for (let i = 0; i < COLD; i++) {
  offset += 2 * 3600_000;
  const t = performance.now();
  await acquireChecked();
  cold.push(performance.now() - t);
}
const coldTotal = median(cold);
const coldSign = median(timings.sign);
const coldToken = median(timings.token);

const result = {
  hit,
  minHitThroughputRatio: minRatio,
  keyVaultSignsPer10k: signsPer10k,
  coldMs: {
    total: +coldTotal.toFixed(1),
    keyVaultSign: +coldSign.toFixed(1),
    tokenEndpoint: +coldToken.toFixed(1),
    certificateReadAndNats: +(coldTotal - coldSign - coldToken).toFixed(1),
  },
  settings: {
    requests: REQUESTS,
    rounds: ROUNDS,
    concurrency: CONCURRENCY,
    coldSamples: COLD,
    replyBytes,
  },
};
if (JSON_OUT) console.log(JSON.stringify(result));
else {
  for (const [c, h] of Object.entries(hit)) {
    log(
      `${c} in flight: cache-hit tokens.acquire ${h.broker.rps} req/s (p99 ${h.broker.p99Ms} ms), bare echo ${h.echo.rps} req/s (p99 ${h.echo.p99Ms} ms): ratio ${h.ratio} (target >= 0.5)`,
    );
  }
  log(
    `Key Vault signs per 10,000 requests, one scope (target 1 + refreshes): ${result.keyVaultSignsPer10k}`,
  );
  log(
    `cold path (median of ${COLD}): total ${result.coldMs.total} ms = Key Vault sign ${result.coldMs.keyVaultSign} ms + token endpoint ${result.coldMs.tokenEndpoint} ms + certificate read/NATS ${result.coldMs.certificateReadAndNats} ms`,
  );
}

await service.stop();
await broker.audit.close();
await moduleRef.close();
await echoNc.close();
await client.close();
await brokerNc.drain();
await nats.dispose();
await dev.stop();
rmSync(dataDir, { recursive: true, force: true });
const pass = minRatio >= 0.5 && signsPer10k <= 1;
if (!pass) console.error('token-broker benchmark: below target');
process.exit(STRICT && !pass ? 1 : 0);
