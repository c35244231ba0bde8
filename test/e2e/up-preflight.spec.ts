// `npm run up` refusing to start, each time with a message that says why and what to do, before it
// starts anything: a mistyped flag, a bad port setting, a port already taken, a second `up` on the
// same data directory (a lock left by a dead one is stale and taken over). And a Ctrl-C while the
// stack is still coming up stops everything it started.
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@idp/testing';

const root = join(__dirname, '..', '..');
// Away from the defaults and from local-stack.spec's offsets.
const OFFSET = 5000 + (process.pid % 400) * 10;

function up(dataDir: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(root, 'scripts/up.mjs'), '--no-build', ...args], {
    cwd: root,
    env: { ...process.env, UP_DATA_DIR: dataDir, UP_PORT_OFFSET: String(OFFSET), ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Processes whose command line or environment names `dir` (what `up` started for that stack). */
function processesOf(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    for (const f of ['cmdline', 'environ']) {
      try {
        const text = readFileSync(`/proc/${pid}/${f}`, 'utf8');
        if (text.includes(dir)) {
          found.push(`${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')}`);
          break;
        }
      } catch {
        // gone meanwhile, or not ours to read
      }
    }
  }
  return found;
}

describe('npm run up refuses to start, saying why', () => {
  let dataDir: string;
  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'idp-up-pre-'))));
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it.each([
    [['--trace'], /Unknown option '--trace'/],
    [['--no-buld'], /Unknown option '--no-buld'/],
    [['start'], /Unexpected argument 'start'/],
    [['--provider'], /--provider.*argument missing/],
  ])('on a flag it does not know (%j): exit 2 with the usage, nothing written', (args, message) => {
    const r = up(dataDir, args);
    expect(r.status).toBe(2);
    expect(r.out).toMatch(message);
    expect(r.out).toContain('usage: npm run up');
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('on a provider it does not know: exit 2 naming the choices', () => {
    const r = up(dataDir, ['--provider', 'okta']);
    expect(r.status).toBe(2);
    expect(r.out).toMatch(/unknown identity provider "okta".*b2c.*external-id/);
  });

  it.each([
    [{ UP_PORT_OFFSET: 'abc' }, /UP_PORT_OFFSET="abc" is not a port number/],
    [{ UP_PORT: '70000' }, /UP_PORT="70000" is not a port number/],
    [
      { UP_PORT_OFFSET: '62000' },
      /UP_PORT_OFFSET=62000 puts .*postgres on 117432.*outside 1-65535/,
    ],
    [{ UP_PORT_OFFSET: '0', UP_PORT: '3002' }, /entry on 3002, scim on 3002: one port each/],
  ])('on a port setting that is no port, or one port for two (%j): exit 2', (env, message) => {
    const r = up(dataDir, [], env);
    expect(r.status).toBe(2);
    expect(r.out).toMatch(message);
  });

  describe('with a port already taken', () => {
    let server: Server;
    let taken: number;
    beforeEach(async () => {
      taken = await freePort();
      server = createServer();
      await new Promise<void>((r) => server.listen(taken, '127.0.0.1', r));
    });
    afterEach(() => new Promise<void>((r) => server.close(() => r())));

    it('names the port and what needed it, starts nothing and leaves no lock', () => {
      const r = up(dataDir, [], { UP_PORT: String(taken) });
      expect(r.status).toBe(1);
      expect(r.out).toContain(`port ${taken} (entry) already in use`);
      expect(r.out).toMatch(/UP_PORT_OFFSET=<n>.*nothing was started/);
      expect(existsSync(join(dataDir, 'postgres'))).toBe(false);
      expect(existsSync(join(dataDir, 'nats.conf'))).toBe(false);
      expect(existsSync(join(dataDir, 'up.pid'))).toBe(false);
    });

    it('takes over the lock of an `up` that is gone (stale), then checks the ports as usual', () => {
      writeFileSync(join(dataDir, 'up.pid'), '999999999\n');
      const r = up(dataDir, [], { UP_PORT: String(taken) });
      expect(r.out).not.toMatch(/another `npm run up`/);
      expect(r.out).toContain(`port ${taken} (entry) already in use`);
      expect(existsSync(join(dataDir, 'up.pid'))).toBe(false);
    });
  });

  it('names what a killed `up` left running (by pid and name) instead of starting beside it', async () => {
    // Stands in for the NATS server a killed `up` started: its command line names the data dir.
    const marker = join(dataDir, 'nats.conf');
    const left = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', marker], {
      stdio: 'ignore',
    });
    try {
      await new Promise((r) => left.once('spawn', r));
      writeFileSync(
        join(dataDir, 'up.pid'),
        `999999999\n${left.pid} nats ${marker}\n${process.pid} portal services/portal/dist/main.js\n`,
      );
      const r = up(dataDir, []);
      expect(r.status).toBe(1);
      // This test process is alive too, but its command line is no portal: a reused pid.
      expect(r.out).toContain(
        `ended without stopping what it started; still running: nats (pid ${left.pid}). Stop them (kill ${left.pid}), then start again`,
      );
      expect(left.exitCode).toBeNull();
      expect(existsSync(join(dataDir, 'up.pid'))).toBe(true);
    } finally {
      left.kill('SIGKILL');
    }
  });

  it('refuses a second `up` on the same data directory, naming the running one, and leaves its lock', () => {
    // This test process stands in for the running `up`.
    writeFileSync(join(dataDir, 'up.pid'), `${process.pid}\n`);
    const r = up(dataDir, []);
    expect(r.status).toBe(1);
    expect(r.out).toContain(`another \`npm run up\` (pid ${process.pid}) is running on ${dataDir}`);
    expect(r.out).toMatch(/UP_DATA_DIR=<another dir> UP_PORT_OFFSET=<n>/);
    expect(readFileSync(join(dataDir, 'up.pid'), 'utf8').trim()).toBe(String(process.pid));
    expect(existsSync(join(dataDir, 'postgres'))).toBe(false);
  });
});

describe('npm run up killed outright (kill -9) while it starts', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'idp-up-kill-'));
  chmodSync(dataDir, 0o755); // the local PostgreSQL runs as the `postgres` user
  const leftPids: number[] = [];
  afterAll(() => {
    for (const pid of leftPids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the next start names each process it left running, and starts nothing', async () => {
    const child = spawn(process.execPath, [join(root, 'scripts/up.mjs'), '--no-build'], {
      cwd: root,
      env: { ...process.env, UP_DATA_DIR: dataDir, UP_PORT_OFFSET: String(OFFSET + 2) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    // NATS and PostgreSQL are running once the stand-ins are being started.
    const deadline = Date.now() + 90_000;
    while (
      !readFileSync(join(dataDir, 'up.pid'), { encoding: 'utf8', flag: 'a+' }).includes(
        ' dev-azure ',
      ) &&
      Date.now() < deadline &&
      child.exitCode === null
    )
      await new Promise((r) => setTimeout(r, 50));
    const lock = readFileSync(join(dataDir, 'up.pid'), 'utf8');
    expect(lock).toContain(' nats ');
    child.kill('SIGKILL');
    await exited;
    const pidOf = (name: string) =>
      Number(
        lock
          .split('\n')
          .find((l) => l.split(' ')[1] === name)
          ?.split(' ')[0],
      );
    const postgresPid = Number(
      readFileSync(join(dataDir, 'postgres', 'data', 'postmaster.pid'), 'utf8').split('\n')[0],
    );
    leftPids.push(pidOf('nats'), pidOf('dev-azure'), postgresPid);

    const again = up(dataDir, []);
    expect({ status: again.status, out: again.out }).toEqual({
      status: 1,
      out: expect.stringContaining('ended without stopping what it started; still running:'),
    });
    for (const [name, pid] of [
      ['nats', pidOf('nats')],
      ['postgres', postgresPid],
    ] as const)
      expect(again.out).toContain(`${name} (pid ${pid})`);
    expect(again.out).not.toMatch(/PostgreSQL on|already in use/);
  }, 150_000);
});

describe('npm run up stopped with Ctrl-C while it starts', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'idp-up-int-'));
  chmodSync(dataDir, 0o755); // the local PostgreSQL runs as the `postgres` user
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('stops what it had started (PostgreSQL, NATS, stand-ins), exits 0 and releases its lock', async () => {
    const child = spawn(process.execPath, [join(root, 'scripts/up.mjs'), '--no-build'], {
      cwd: root,
      env: { ...process.env, UP_DATA_DIR: dataDir, UP_PORT_OFFSET: String(OFFSET + 1) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    // Mid-start: PostgreSQL is up and NATS / the stand-ins are being started.
    const deadline = Date.now() + 90_000;
    while (!out.includes('PostgreSQL on') && Date.now() < deadline && child.exitCode === null)
      await new Promise((r) => setTimeout(r, 50));
    expect(out).toContain('PostgreSQL on');
    expect(existsSync(join(dataDir, 'up.pid'))).toBe(true);
    child.kill('SIGINT');
    const code = await exited;
    expect(code === 0 ? '' : out).toBe('');
    expect(out).toContain('postgres stopped');
    expect(out).not.toContain('Identity platform is up');
    expect(existsSync(join(dataDir, 'up.pid'))).toBe(false);
    expect(existsSync(join(dataDir, 'postgres', 'data', 'postmaster.pid'))).toBe(false);
    expect(processesOf(dataDir)).toEqual([]);
  }, 150_000);
});
