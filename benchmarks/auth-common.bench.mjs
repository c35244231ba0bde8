// Throughput of @idp/auth-common's TokenValidator relative to a bare
// crypto.verify of the same RS256 tokens in the same run.
//   (a) distinct tokens: every token fully validated (cache cannot help)
//   (b) one token repeated: verified-token cache hits
// Usage: npx turbo run build --filter=@idp/auth-common && node benchmarks/auth-common.bench.mjs [--strict] [--json]
import { Buffer } from 'node:buffer';
import crypto from 'node:crypto';
import http from 'node:http';
import { URL } from 'node:url';
import { TokenValidator } from '@idp/auth-common';
import { jwtVerify } from 'jose';

const STRICT = process.argv.includes('--strict');
const JSON_OUT = process.argv.includes('--json');
const DISTINCT = Number(process.env.BENCH_DISTINCT_TOKENS ?? 1500);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 10000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONCURRENCY = 16;

const TENANT_ID = crypto.randomUUID();
const AUDIENCE = 'api://policy-api';
const FLOW = 'b2c_1_signupsignin';
const KID = 'bench-rs256';

// --- a local OpenID metadata + JWKS endpoint (loopback only) -----------------
const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...publicKey.export({ format: 'jwk' }), kid: KID, use: 'sig' };

const server = http.createServer((req, res) => {
  const base = `http://${req.headers.host}`;
  const path = new URL(req.url ?? '/', base).pathname;
  const send = (body) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  if (path.endsWith('/.well-known/openid-configuration')) {
    return send({
      issuer: `${base}/${TENANT_ID}/v2.0/`,
      jwks_uri: `${base}/contoso.onmicrosoft.com/${FLOW}/discovery/v2.0/keys`,
    });
  }
  if (path.endsWith('/discovery/v2.0/keys')) return send({ keys: [jwk] });
  res.writeHead(404).end();
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const host = `127.0.0.1:${server.address().port}`;
const issuer = `http://${host}/${TENANT_ID}/v2.0/`;

// --- tokens (signed with node:crypto for a quick setup) ----------------------
const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
const header = b64({ alg: 'RS256', typ: 'JWT', kid: KID });
function mint(i) {
  const now = Math.floor(Date.now() / 1000);
  const oid = crypto.randomUUID();
  const payload = b64({
    ver: '1.0',
    iss: issuer,
    aud: AUDIENCE,
    sub: oid,
    oid,
    tfp: 'B2C_1_signupsignin',
    scp: 'Accounts.Read Accounts.Write',
    name: `User ${i}`,
    given_name: 'User',
    family_name: String(i),
    emails: [`user${i}@example.test`],
    azp: crypto.randomUUID(),
    auth_time: now - 10,
    iat: now,
    nbf: now,
    exp: now + 3600,
  });
  const input = `${header}.${payload}`;
  return `${input}.${crypto.sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
}
const tokens = Array.from({ length: DISTINCT }, (_, i) => mint(i));
const single = tokens[0];

const validator = new TokenValidator({
  identityMetadata: `http://${host}/contoso.onmicrosoft.com/${FLOW}/v2.0/.well-known/openid-configuration`,
  audience: AUDIENCE,
  isB2C: true,
  allowInsecureHttp: true,
});
await validator.warmUp();

// --- measured loops ------------------------------------------------------------
function bareVerify(list) {
  const t0 = process.hrtime.bigint();
  for (const token of list) {
    const dot = token.lastIndexOf('.');
    const ok = crypto.verify(
      'sha256',
      Buffer.from(token.slice(0, dot)),
      publicKey,
      Buffer.from(token.slice(dot + 1), 'base64url'),
    );
    if (!ok) throw new Error('bare verify failed');
  }
  return list.length / (Number(process.hrtime.bigint() - t0) / 1e9);
}

async function validateSequential(list) {
  const t0 = process.hrtime.bigint();
  for (const token of list) await validator.validate(token);
  return list.length / (Number(process.hrtime.bigint() - t0) / 1e9);
}

// jose alone (signature + claims, no JWKS lookup, no cache): the floor the strategy builds on.
async function joseAlone(list) {
  const t0 = process.hrtime.bigint();
  for (const token of list)
    await jwtVerify(token, publicKey, { algorithms: ['RS256'], issuer, audience: AUDIENCE });
  return list.length / (Number(process.hrtime.bigint() - t0) / 1e9);
}

async function validateConcurrent(list) {
  const t0 = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < list.length) await validator.validate(list[next++]);
    }),
  );
  return list.length / (Number(process.hrtime.bigint() - t0) / 1e9);
}

const repeated = Array.from({ length: REPEATS }, () => single);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Warm-up (JIT, key import), not counted.
bareVerify(tokens.slice(0, 200));
await validateSequential(tokens.slice(0, 200));
await validateSequential(repeated.slice(0, 1000));

const samples = { distinct: [], distinctConcurrent: [], repeated: [], jose: [], overJose: [] };
for (let round = 0; round < ROUNDS; round++) {
  // Interleave baseline and subject so machine noise hits both alike.
  let bare = bareVerify(tokens);
  validator.flushCache(); // every token is new to the validator again
  const ours = await validateSequential(tokens);
  samples.distinct.push({ ops: ours, bare });
  const jose = await joseAlone(tokens);
  samples.jose.push({ ops: jose, bare });
  samples.overJose.push({ ops: ours, bare: jose });

  bare = bareVerify(tokens);
  validator.flushCache();
  samples.distinctConcurrent.push({ ops: await validateConcurrent(tokens), bare });

  bare = bareVerify(repeated);
  samples.repeated.push({ ops: await validateSequential(repeated), bare });
}
server.close();

const stats = validator.cacheStats();
const rows = [
  {
    id: 'a',
    scenario: 'distinct tokens, full validation',
    samples: samples.distinct,
    target: 0.28,
  },
  { id: 'b', scenario: 'one token repeated, cache hits', samples: samples.repeated, target: 2 },
  { id: 'jose', scenario: 'jose jwtVerify alone, distinct tokens', samples: samples.jose },
  { id: 'a/j', scenario: '(a) relative to jose alone (not bare)', samples: samples.overJose },
  {
    id: 'info',
    scenario: `distinct tokens, ${CONCURRENCY} in flight`,
    samples: samples.distinctConcurrent,
  },
].map((r) => ({
  id: r.id,
  scenario: r.scenario,
  opsPerSec: Math.round(median(r.samples.map((s) => s.ops))),
  bareOpsPerSec: Math.round(median(r.samples.map((s) => s.bare))),
  ratio: median(r.samples.map((s) => s.ops / s.bare)),
  target: r.target,
}));

if (JSON_OUT) {
  console.log(JSON.stringify({ benchmark: 'auth-common', node: process.version, rows }));
} else {
  const fmt = (n) => n.toLocaleString('en-US');
  console.log(
    `auth-common TokenValidator vs bare crypto.verify (RS256, 2048-bit; node ${process.version}; ` +
      `${DISTINCT} distinct tokens, ${REPEATS} repeats, median of ${ROUNDS} rounds)`,
  );
  const line = (c) =>
    `${c[0].padEnd(7)}${c[1].padEnd(38)}${c[2].padStart(12)}${c[3].padStart(12)}${c[4].padStart(8)}${c[5].padStart(10)}`;
  console.log(line(['', 'scenario', 'ops/s', 'bare ops/s', 'ratio', 'target']));
  for (const r of rows) {
    const verdict = r.target === undefined ? '' : r.ratio >= r.target ? 'ok' : 'BELOW';
    console.log(
      line([
        `(${r.id})`,
        r.scenario,
        fmt(r.opsPerSec),
        fmt(r.bareOpsPerSec),
        r.ratio.toFixed(2),
        r.target === undefined ? '-' : `>=${r.target} ${verdict}`,
      ]),
    );
  }
  console.log(`cache: ${stats?.hits} hits, ${stats?.misses} misses, ${stats?.flushes} flushes`);
}

const below = rows.filter((r) => r.target !== undefined && r.ratio < r.target);
if (STRICT && below.length) process.exitCode = 1;
