import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

/** Finds nats-server, or fails with a message that says how to install it. */
export function natsServerBinary(): string {
  const found = process.env.NATS_SERVER_BIN ?? onPath('nats-server') ?? ['/usr/sbin/nats-server', '/usr/bin/nats-server'].find(existsSync);
  if (!found || !existsSync(found)) {
    throw new Error(
      'nats-server not found. Install it with `apt-get install nats-server` (Debian/Ubuntu), ' +
        '`go install github.com/nats-io/nats-server/v2@latest`, or set NATS_SERVER_BIN to its path.',
    );
  }
  return found;
}

/** Finds the PostgreSQL server binaries directory (initdb, pg_ctl, postgres). */
export function postgresBinDir(): string {
  const candidates: string[] = [];
  if (process.env.PG_BIN_DIR) candidates.push(process.env.PG_BIN_DIR);
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(root, v, 'bin')));
  }
  const initdb = onPath('initdb');
  if (initdb) candidates.push(initdb.replace(/\/initdb$/, ''));
  const dir = candidates.find((d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'postgres')));
  if (!dir) {
    throw new Error(
      'PostgreSQL server binaries (initdb, postgres) not found. Install them with ' +
        '`apt-get install postgresql` (Debian/Ubuntu) or set PG_BIN_DIR to the folder holding initdb.',
    );
  }
  return dir;
}
