// SCIM provisioning throughput and scaling, driven like Microsoft Entra ID's provisioning service.
//   1. Scaling: `userName eq` lookup latency at BENCH_SCALE_SMALL users vs BENCH_SCALE_USERS users
//      (target ratio <= 1.2; two services over two databases, probed alternately); `userName sw`,
//      `emails.value co` and `displayName co` the same way (trigram indexes; target ratio <= 3); and
//      GET /Groups/{id}?excludedAttributes=members for a group of BENCH_SCALE_USERS members vs one of
//      10 members (target ratio <= 1.5). Directories are bulk-loaded with SQL (only lookups are timed).
//   2. Initial cycle (concurrency BENCH_CONCURRENCY, default 8): for each of BENCH_USERS users,
//      GET ?filter=userName eq (404-style empty list) then POST; for each of BENCH_GROUPS groups,
//      GET ?filter=displayName eq, POST, then PATCH members in batches of BENCH_MEMBER_BATCH until it
//      has BENCH_MEMBERS members.
//   3. Incremental cycle: BENCH_CHANGE (5 %) of users get a lookup + PATCH (attribute replace, some
//      disabled with "False"), the same share of groups get member adds and removes.
// Reports requests/s, p50/p99 per operation, and the CPU each process spent per request (scim,
// PostgreSQL, nats-server, this client; from /proc, robust to other load on a shared machine).
// Entra asks for >= 25 requests/s; the goal is >= 20x. The client shares the machine's cores with
// the service, so it uses undici's request API: fetch's WHATWG layer cost it twice the CPU.
// Not a test: results are printed, never asserted.
// Usage: npm run build -w services/scim && node benchmarks/scim.bench.mjs [--json]
//   quick run: BENCH_QUICK=1 (1,000 users, 10 groups x 100, scaling at 10k); each size also has its own
//   variable: BENCH_USERS, BENCH_GROUPS, BENCH_MEMBERS, BENCH_MEMBER_BATCH, BENCH_CONCURRENCY, BENCH_CHANGE,
//   BENCH_SCALE_USERS, BENCH_SCALE_SMALL, BENCH_PROBES. The full run takes about 3 minutes.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort, startNats, startNode, startPostgres, waitForHttp } from '@idp/testing';
import pg from 'pg';
import { request } from 'undici';
import { allProcStats } from './proc-cpu.mjs';

const JSON_OUT = process.argv.includes('--json');
const num = (name, def) => Number(process.env[name] ?? def);
// BENCH_QUICK=1: a smaller run (about a minute) with the same shape.
const QUICK = process.env.BENCH_QUICK === '1' || process.env.BENCH_QUICK === 'true';
const USERS = num('BENCH_USERS', QUICK ? 1_000 : 10_000);
const GROUPS = num('BENCH_GROUPS', QUICK ? 10 : 100);
const MEMBERS = num('BENCH_MEMBERS', QUICK ? 100 : 1_000);
const MEMBER_BATCH = num('BENCH_MEMBER_BATCH', 100);
const CONCURRENCY = num('BENCH_CONCURRENCY', 8);
const CHANGE = num('BENCH_CHANGE', 0.05);
const SCALE_USERS = num('BENCH_SCALE_USERS', QUICK ? 10_000 : 100_000);
const SCALE_SMALL = num('BENCH_SCALE_SMALL', 1_000);
const PROBES = num('BENCH_PROBES', 400);

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entry =
  process.env.BENCH_SCIM_ENTRY ?? path.join(root, 'services', 'scim', 'dist', 'main.js');
const cli = path.join(root, 'services', 'scim', 'dist', 'cli', 'admin-cli.js');
const run = promisify(execFile);
const USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const GROUP_URN = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const log = (...a) => JSON_OUT || console.log(...a);

// --- infrastructure -----------------------------------------------------------------------------
const [pgServer, nats] = await Promise.all([startPostgres(), startNats()]);
const started = Date.now();
/** A scim process over its own database. */
async function startService() {
  const databaseUrl = await pgServer.createDatabase();
  const port = await freePort();
  const proc = startNode(entry, {
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    NATS_URL: nats.url,
    MIGRATE_ON_START: 'true',
    LOG_LEVEL: 'warn',
  });
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/readyz`, { proc, timeoutMs: 60_000 });
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const tokenFor = async (dir) => {
    const env = { ...process.env, DATABASE_URL: databaseUrl };
    // Directories exist only once created.
    await run(process.execPath, [cli, 'directory', 'create', dir], { env });
    const { stdout } = await run(process.execPath, [cli, 'token', 'create', dir, 'bench'], { env });
    return JSON.parse(stdout).token;
  };
  return {
    base,
    proc,
    pool,
    tokenFor,
    stop: async () => (await pool.end(), await proc.stop('SIGTERM')),
  };
}
const main = await startService();
const { base, pool } = main;

// --- measurement -------------------------------------------------------------------------------
const samples = new Map(); // operation -> ms[]
let requests = 0;
let failures = 0;
async function call(op, token, method, url, body, expected, at = base) {
  const t0 = performance.now();
  const res = await request(`${at}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body ? { 'content-type': 'application/scim+json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.body.text();
  const ms = performance.now() - t0;
  requests++;
  if (!samples.has(op)) samples.set(op, []);
  samples.get(op).push(ms);
  if (res.statusCode !== expected) {
    failures++;
    if (failures <= 5)
      console.error(
        `${op}: ${method} ${url} answered ${res.statusCode} (expected ${expected}): ${text.slice(0, 300)}`,
      );
  }
  return text ? JSON.parse(text) : undefined;
}
const pct = (xs, p) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
/** Runs tasks with at most `n` in flight, like Entra's provisioning workers. */
async function pooled(tasks, n = CONCURRENCY) {
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, tasks.length) }, async () => {
      while (i < tasks.length) await tasks[i++]();
    }),
  );
}
const ratio = (a, b) => +(a / b).toFixed(2);
const EQ_TARGET = 1.2;
const FILTER_TARGET = 3;
const FILTER_PROBES = {
  'userName sw': (n) => `userName sw "user${n}@"`,
  'emails.value co': (n) => `emails.value co "er${n}@sc"`,
  'displayName co': (n) => `displayName co "ser ${n}"`,
};

/**
 * CPU seconds so far of this run's processes, by role, from /proc: scim, its PostgreSQL (the
 * postmaster this script started and its backends), nats-server, and this script (the client).
 * On a shared two-core machine requests/s moves with other load; CPU per request does not, and
 * 2 cores / (total CPU per request) is the throughput an idle machine would allow.
 */
function cpuByRole() {
  const procs = allProcStats();
  const own = (pid) => procs.get(pid)?.ppid === process.pid;
  const out = { scim: procs.get(main.proc.child.pid)?.cpu ?? 0, postgres: 0, nats: 0 };
  for (const [pid, p] of procs) {
    if (p.comm === 'nats-server' && own(pid)) out.nats += p.cpu;
    if (p.comm === 'postgres' && own(pid)) out.postgres += p.cpu + p.children;
    if (p.comm === 'postgres' && own(p.ppid)) out.postgres += p.cpu;
  }
  const self = process.cpuUsage();
  out.client = (self.user + self.system) / 1e6;
  return out;
}
const CPU_ROLES = ['scim', 'postgres', 'nats', 'client'];

async function cycle(name, build) {
  samples.clear();
  const r0 = requests;
  const cpu0 = cpuByRole();
  const t0 = performance.now();
  await build();
  const secs = (performance.now() - t0) / 1000;
  // The relay publishes after the responses: its work belongs to the cycle's cost.
  await outboxDrained();
  const cpu1 = cpuByRole();
  const n = requests - r0;
  const cpuMicrosPerRequest = Object.fromEntries(
    CPU_ROLES.map((k) => [k, Math.round(((cpu1[k] - cpu0[k]) * 1e6) / n)]),
  );
  cpuMicrosPerRequest.total = CPU_ROLES.reduce((a, k) => a + cpuMicrosPerRequest[k], 0);
  const ops = Object.fromEntries(
    [...samples].map(([op, xs]) => [
      op,
      { n: xs.length, p50: +pct(xs, 50).toFixed(2), p99: +pct(xs, 99).toFixed(2) },
    ]),
  );
  return {
    name,
    requests: requests - r0,
    seconds: +secs.toFixed(1),
    requestsPerSecond: +((requests - r0) / secs).toFixed(0),
    cpuMicrosPerRequest,
    ops,
  };
}
async function outboxDrained() {
  for (let i = 0; i < 600; i++) {
    const { rows } = await pool.query(
      'SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL AND last_error IS NULL',
    );
    if (rows[0].n === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the outbox did not drain within 30 s');
}
const filterUrl = (res, f, extra = '') => `/scim/v2/${res}?filter=${encodeURIComponent(f)}${extra}`;

try {
  // --- 1. scaling --------------------------------------------------------------------------------
  // The small and the large case run side by side (a second service over a database holding only
  // the small directory) and are probed alternately, so load elsewhere on the machine hits both alike.
  const other = await startService();
  const scaleToken = await main.tokenFor('scale');
  const smallToken = await other.tokenFor('scale');
  const bulkUsers = async (db, count) => {
    await db.query(
      `INSERT INTO scim_users (id, directory_id, user_name, user_name_lower, external_id, display_name, active, emails_lower, data)
       SELECT gen_random_uuid()::text, 'scale', 'User' || i || '@Scale.example', 'user' || i || '@scale.example', 'ext-' || i, 'User ' || i, true,
              ARRAY['user' || i || '@scale.example'],
              jsonb_build_object('schemas', jsonb_build_array($2::text), 'userName', 'User' || i || '@Scale.example', 'externalId', 'ext-' || i,
                                 'displayName', 'User ' || i, 'active', true, 'emails', jsonb_build_array(jsonb_build_object('value', 'user' || i || '@scale.example', 'type', 'work', 'primary', true)))::json
       FROM generate_series(1, $1::int) AS i`,
      [count, USER_URN],
    );
    // As after any bulk load: without it autovacuum and the trigram indexes' pending-list merge
    // of these rows land in the middle of the timed cycles below (same database).
    await db.query('VACUUM ANALYZE scim_users');
  };
  await Promise.all([bulkUsers(other.pool, SCALE_SMALL), bulkUsers(pool, SCALE_USERS)]);
  /** Alternates two probes; returns the p50 of each (the first 50 rounds warm up). */
  const alternate = async (a, b) => {
    const xa = [];
    const xb = [];
    for (let i = 0; i < PROBES + 50; i++) {
      for (const [probe, xs] of i % 2
        ? [
            [a, xa],
            [b, xb],
          ]
        : [
            [b, xb],
            [a, xa],
          ]) {
        const t0 = performance.now();
        await probe();
        if (i >= 50) xs.push(performance.now() - t0);
      }
    }
    return [pct(xa, 50), pct(xb, 50)];
  };
  const lookup = (token, at, population) => async () => {
    const n = 1 + Math.floor(Math.random() * population);
    const r = await call(
      'scale-lookup',
      token,
      'GET',
      filterUrl('Users', `userName eq "user${n}@SCALE.example"`),
      undefined,
      200,
      at,
    );
    if (r?.totalResults !== 1) failures++;
  };
  const [lookupSmall, lookupLarge] = await alternate(
    lookup(smallToken, other.base, SCALE_SMALL),
    lookup(scaleToken, base, SCALE_USERS),
  );
  // Substring/prefix filters answered through the trigram indexes. n is drawn from the upper 90% of
  // the population so that each probe matches (about) one user at both sizes.
  const filterProbe = (token, at, population, make) => async () => {
    const low = Math.floor(population / 10);
    const n = low + Math.floor(Math.random() * (population - low));
    const r = await call(
      'scale-filter',
      token,
      'GET',
      filterUrl('Users', make(n)),
      undefined,
      200,
      at,
    );
    if (!(r?.totalResults >= 1)) failures++;
  };
  const filterScaling = {};
  for (const [name, make] of Object.entries(FILTER_PROBES)) {
    const [s, l] = await alternate(
      filterProbe(smallToken, other.base, SCALE_SMALL, make),
      filterProbe(scaleToken, base, SCALE_USERS, make),
    );
    filterScaling[name] = {
      small: +s.toFixed(2),
      large: +l.toFixed(2),
      ratio: ratio(l, s),
      target: FILTER_TARGET,
    };
  }
  await other.stop();

  const small = await call(
    'scale-group',
    scaleToken,
    'POST',
    '/scim/v2/Groups',
    { schemas: [GROUP_URN], displayName: 'ten' },
    201,
  );
  const large = await call(
    'scale-group',
    scaleToken,
    'POST',
    '/scim/v2/Groups',
    { schemas: [GROUP_URN], displayName: 'everyone' },
    201,
  );
  await pool.query(
    `INSERT INTO scim_memberships (group_id, user_id) SELECT $1, id FROM scim_users WHERE directory_id = 'scale' ORDER BY id LIMIT 10`,
    [small.id],
  );
  await pool.query(
    `INSERT INTO scim_memberships (group_id, user_id) SELECT $1, id FROM scim_users WHERE directory_id = 'scale'`,
    [large.id],
  );
  await pool.query('VACUUM ANALYZE scim_memberships');
  const readGroup = (id) => () =>
    call(
      'scale-group-read',
      scaleToken,
      'GET',
      `/scim/v2/Groups/${id}?excludedAttributes=members`,
      undefined,
      200,
    );
  const [groupSmall, groupLarge] = await alternate(readGroup(small.id), readGroup(large.id));
  // A membership PATCH on the large group must not load its members either.
  const {
    rows: [someone],
  } = await pool.query('SELECT user_id FROM scim_memberships WHERE group_id = $1 LIMIT 1', [
    large.id,
  ]);
  const t0 = performance.now();
  await call(
    'scale-group-patch',
    scaleToken,
    'PATCH',
    `/scim/v2/Groups/${large.id}`,
    {
      schemas: [PATCH],
      Operations: [{ op: 'Remove', path: 'members', value: [{ value: someone.user_id }] }],
    },
    204,
  );
  const patchLargeMs = performance.now() - t0;

  // --- 2. initial cycle ---------------------------------------------------------------------------
  const token = await main.tokenFor('entra');
  const ids = new Array(USERS);
  const groupIds = new Array(GROUPS);
  const userName = (i) => `Bench.User${i}@Contoso.com`;
  const initial = await cycle('initial', async () => {
    await pooled(
      Array.from({ length: USERS }, (_, i) => async () => {
        await call(
          'user-lookup',
          token,
          'GET',
          filterUrl('Users', `userName eq "${userName(i)}"`),
          undefined,
          200,
        );
        const u = await call(
          'user-create',
          token,
          'POST',
          '/scim/v2/Users',
          {
            schemas: [USER_URN, ENTERPRISE],
            externalId: `ext-${i}`,
            userName: userName(i),
            active: true,
            displayName: `Bench User ${i}`,
            emails: [{ primary: true, type: 'work', value: userName(i) }],
            name: { givenName: 'Bench', familyName: `User${i}` },
            [ENTERPRISE]: { department: `Dept ${i % 20}` },
          },
          201,
        );
        ids[i] = u?.id;
      }),
    );
    await pooled(
      Array.from({ length: GROUPS }, (_, g) => async () => {
        await call(
          'group-lookup',
          token,
          'GET',
          filterUrl('Groups', `displayName eq "Bench Group ${g}"`, '&excludedAttributes=members'),
          undefined,
          200,
        );
        const created = await call(
          'group-create',
          token,
          'POST',
          '/scim/v2/Groups',
          { schemas: [GROUP_URN], externalId: `gext-${g}`, displayName: `Bench Group ${g}` },
          201,
        );
        groupIds[g] = created?.id;
        const start = (g * 97) % Math.max(1, USERS);
        const members = Array.from(
          { length: Math.min(MEMBERS, USERS) },
          (_, k) => ids[(start + k) % USERS],
        );
        for (let k = 0; k < members.length; k += MEMBER_BATCH) {
          const value = members.slice(k, k + MEMBER_BATCH).map((v) => ({ value: v }));
          await call(
            'group-members-add',
            token,
            'PATCH',
            `/scim/v2/Groups/${groupIds[g]}`,
            { schemas: [PATCH], Operations: [{ op: 'Add', path: 'members', value }] },
            204,
          );
        }
      }),
    );
  });

  // --- 3. incremental cycle (5 %) -----------------------------------------------------------------
  const changedUsers = Math.max(1, Math.round(USERS * CHANGE));
  const changedGroups = Math.max(1, Math.round(GROUPS * CHANGE));
  // Warm-up, not timed: this process has served no user PATCH yet, and V8 compiles that path on
  // first use, while Entra's incremental cycles reach a long-running replica (the policy-api
  // benchmark warms up the same way). PATCHes of the scale directory's users, same shapes.
  const warm = (
    await pool.query(
      `SELECT id FROM scim_users WHERE directory_id = 'scale' ORDER BY id LIMIT $1`,
      [Math.min(changedUsers, 200) + 1],
    )
  ).rows.map((r) => r.id);
  await pooled(
    warm.slice(1).map(
      (id, k) => () =>
        call(
          'warm-up',
          scaleToken,
          'PATCH',
          `/scim/v2/Users/${id}`,
          {
            schemas: [PATCH],
            Operations:
              k % 4 === 0
                ? [{ op: 'Replace', path: 'active', value: 'False' }]
                : [
                    { op: 'Replace', path: 'displayName', value: `Warm ${k}` },
                    { op: 'Add', path: `${ENTERPRISE}:manager`, value: warm[k] },
                  ],
          },
          200,
        ),
    ),
  );
  const incremental = await cycle('incremental', async () => {
    await pooled([
      ...Array.from({ length: changedUsers }, (_, k) => async () => {
        const i = (k * 7919) % USERS;
        const found = await call(
          'user-lookup',
          token,
          'GET',
          filterUrl('Users', `userName eq "${userName(i).toLowerCase()}"`),
          undefined,
          200,
        );
        const id = found?.Resources?.[0]?.id ?? ids[i];
        const ops =
          k % 4 === 0
            ? [{ op: 'Replace', path: 'active', value: 'False' }]
            : [
                { op: 'Replace', path: 'displayName', value: `Bench User ${i} (changed)` },
                {
                  op: 'Replace',
                  path: 'emails[type eq "work"].value',
                  value: `changed.${userName(i)}`,
                },
                { op: 'Add', path: `${ENTERPRISE}:manager`, value: ids[(i + 1) % USERS] },
              ];
        await call(
          'user-patch',
          token,
          'PATCH',
          `/scim/v2/Users/${id}`,
          { schemas: [PATCH], Operations: ops },
          200,
        );
      }),
      ...Array.from({ length: changedGroups }, (_, k) => async () => {
        const g = (k * 13) % GROUPS;
        await call(
          'group-get',
          token,
          'GET',
          `/scim/v2/Groups/${groupIds[g]}?excludedAttributes=members`,
          undefined,
          200,
        );
        const start = (g * 97) % USERS;
        const remove = Array.from(
          { length: Math.max(1, Math.round(MEMBERS * CHANGE)) },
          (_, j) => ids[(start + j) % USERS],
        );
        const add = Array.from(
          { length: Math.max(1, Math.round(MEMBERS * CHANGE)) },
          (_, j) => ids[(start + MEMBERS + j) % USERS],
        );
        await call(
          'group-members-change',
          token,
          'PATCH',
          `/scim/v2/Groups/${groupIds[g]}`,
          {
            schemas: [PATCH],
            Operations: [
              { op: 'Remove', path: 'members', value: remove.map((value) => ({ value })) },
              { op: 'Add', path: 'members', value: add.map((value) => ({ value })) },
            ],
          },
          204,
        );
      }),
    ]);
  });

  const result = {
    sizes: {
      users: USERS,
      groups: GROUPS,
      membersPerGroup: MEMBERS,
      concurrency: CONCURRENCY,
      change: CHANGE,
      scaleUsers: SCALE_USERS,
      scaleSmall: SCALE_SMALL,
    },
    cycles: [initial, incremental],
    scaling: {
      userNameLookupP50Ms: {
        small: +lookupSmall.toFixed(2),
        large: +lookupLarge.toFixed(2),
        ratio: ratio(lookupLarge, lookupSmall),
        target: EQ_TARGET,
      },
      filterP50Ms: filterScaling,
      groupReadWithoutMembersP50Ms: {
        tenMembers: +groupSmall.toFixed(2),
        large: +groupLarge.toFixed(2),
        ratio: ratio(groupLarge, groupSmall),
        target: 1.5,
      },
      largeGroupMemberPatchMs: +patchLargeMs.toFixed(1),
    },
    failures,
    totalSeconds: +((Date.now() - started) / 1000).toFixed(0),
  };
  if (JSON_OUT) console.log(JSON.stringify(result, null, 2));
  else {
    log(
      `SCIM benchmark: ${USERS} users, ${GROUPS} groups x ${MEMBERS} members, concurrency ${CONCURRENCY}; scaling at ${SCALE_SMALL} vs ${SCALE_USERS} users`,
    );
    if (USERS < 10_000 || GROUPS < 100 || MEMBERS < 1_000 || SCALE_USERS < 100_000)
      log(
        "NOTE: reduced sizes (env overrides); the issue's full run is 10,000 users, 100 groups x 1,000, 100k scale.",
      );
    for (const c of result.cycles) {
      const vs = c.requestsPerSecond / 25;
      log(
        `\n${c.name} cycle: ${c.requests} requests in ${c.seconds}s = ${c.requestsPerSecond} req/s (${vs.toFixed(1)}x Entra's 25 req/s; goal >= 20x: ${vs >= 20 ? 'met' : 'NOT met'})`,
      );
      const cpu = c.cpuMicrosPerRequest;
      log(
        `  CPU per request: ${CPU_ROLES.map((k) => `${k} ${cpu[k]} µs`).join(', ')}; total ${cpu.total} µs (2 idle cores allow ~${Math.round(2e6 / cpu.total)} req/s)`,
      );
      for (const [op, s] of Object.entries(c.ops))
        log(
          `  ${op.padEnd(22)} n=${String(s.n).padStart(6)}  p50 ${s.p50.toFixed(2).padStart(7)} ms  p99 ${s.p99.toFixed(2).padStart(7)} ms`,
        );
    }
    const sc = result.scaling;
    log(
      `\nuserName eq lookup p50: ${sc.userNameLookupP50Ms.small} ms at ${SCALE_SMALL} users, ${sc.userNameLookupP50Ms.large} ms at ${SCALE_USERS} users -> ratio ${sc.userNameLookupP50Ms.ratio} (target <= ${EQ_TARGET}: ${sc.userNameLookupP50Ms.ratio <= EQ_TARGET ? 'met' : 'NOT met'})`,
    );
    for (const [name, f] of Object.entries(sc.filterP50Ms)) {
      log(
        `${name} filter p50: ${f.small} ms at ${SCALE_SMALL} users, ${f.large} ms at ${SCALE_USERS} users -> ratio ${f.ratio} (target <= ${f.target}: ${f.ratio <= f.target ? 'met' : 'NOT met'})`,
      );
    }
    log(
      `group read excludedAttributes=members p50: ${sc.groupReadWithoutMembersP50Ms.tenMembers} ms at 10 members, ${sc.groupReadWithoutMembersP50Ms.large} ms at ${SCALE_USERS} members -> ratio ${sc.groupReadWithoutMembersP50Ms.ratio} (target <= 1.5: ${sc.groupReadWithoutMembersP50Ms.ratio <= 1.5 ? 'met' : 'NOT met'})`,
    );
    log(`one-member PATCH on the ${SCALE_USERS}-member group: ${sc.largeGroupMemberPatchMs} ms`);
    log(`\nunexpected responses: ${failures}; total time ${result.totalSeconds}s`);
  }
} finally {
  await main.stop();
  await Promise.all([pgServer.stop(), nats.dispose()]);
}
