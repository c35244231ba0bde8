import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The bootstrap's tools folder (scripts/bootstrap): IDP_TOOLS_DIR or <repo>/.dev/tools. */
export function toolsDir(): string {
  return resolve(process.env.IDP_TOOLS_DIR || join(__dirname, '..', '..', '..', '.dev', 'tools'));
}

const bootstrapHint =
  'Run `npm test` or `node scripts/bootstrap/cli.mjs`, which install it into .dev/tools';

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

/** Finds nats-server (the tools folder first), or fails with a message that says how to install it. */
export function natsServerBinary(): string {
  const found =
    process.env.NATS_SERVER_BIN ??
    [join(toolsDir(), 'bin', 'nats-server')].find(existsSync) ??
    onPath('nats-server') ??
    ['/usr/sbin/nats-server', '/usr/bin/nats-server'].find(existsSync);
  if (!found || !existsSync(found)) {
    throw new Error(
      `nats-server not found. ${bootstrapHint} (or set NATS_SERVER_BIN to its path).`,
    );
  }
  return found;
}

/** Finds the PostgreSQL server binaries directory (initdb, pg_ctl, postgres): the bootstrap's order. */
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
  candidates.push(join(toolsDir(), 'postgres', 'native', 'bin'));
  const dir = candidates.find(
    (d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'postgres')),
  );
  if (!dir) {
    throw new Error(
      `PostgreSQL server binaries (initdb, postgres) not found. ${bootstrapHint} (or set PG_BIN_DIR to the folder holding initdb).`,
    );
  }
  return dir;
}
