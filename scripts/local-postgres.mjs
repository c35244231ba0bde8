// A persistent local PostgreSQL for `npm run up` (data in .dev/postgres), run from the
// Debian binaries; PostgreSQL refuses root, so as root it runs as the `postgres` user.
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';

export function findPgBin() {
  const dirs = [];
  if (process.env.PG_BIN_DIR) dirs.push(process.env.PG_BIN_DIR);
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) dirs.push(...readdirSync(root).sort((a, b) => Number(b) - Number(a)).map((v) => join(root, v, 'bin')));
  return dirs.find((d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'postgres')));
}

function ids() {
  if (process.getuid?.() !== 0) return {};
  return {
    uid: Number(execFileSync('id', ['-u', 'postgres']).toString()),
    gid: Number(execFileSync('id', ['-g', 'postgres']).toString()),
  };
}

const waitPort = (port) =>
  new Promise((resolve, reject) => {
    const deadline = Date.now() + 20000;
    const attempt = () => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve()));
      s.once('error', () => (Date.now() > deadline ? reject(new Error(`postgres did not open port ${port}`)) : setTimeout(attempt, 100)));
    };
    attempt();
  });

/** Starts (initialising on first use) a PostgreSQL server on `port` with its data in `dir`. */
export async function startLocalPostgres({ dir, port, bin }) {
  const user = ids();
  const data = join(dir, 'data');
  mkdirSync(dir, { recursive: true });
  if (user.uid !== undefined) chownSync(dir, user.uid, user.gid);
  if (!existsSync(join(data, 'PG_VERSION'))) {
    execFileSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8'], { stdio: 'pipe', cwd: dir, ...user });
    writeFileSync(join(data, 'postgresql.auto.conf'), 'max_connections = 200\n');
  }
  const child = spawn(join(bin, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, '-h', '127.0.0.1'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], ...user });
  await waitPort(port);
  return child;
}
