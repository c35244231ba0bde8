import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { postgresBinDir } from './binaries';
import { freePort, waitForPort } from './ports';
import { endWithThisProcess } from './reaper';

export interface TestPostgres {
  /** Connection string of the default `postgres` database. */
  url: string;
  port: number;
  /** Creates a fresh, empty database and returns its connection string. */
  createDatabase(name?: string): Promise<string>;
  stop(): Promise<void>;
}

const isRoot = (): boolean => userInfo().uid === 0;

/** PostgreSQL refuses to run as root; CI runs as root, so run it as the `postgres` user there. */
function asServerUser(): { uid?: number; gid?: number } {
  return isRoot() ? serverUserIds() : {};
}

function serverUserIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

let counter = 0;

function ensureTemplate(bin: string): string {
  const owner = isRoot() ? 'postgres' : userInfo().username;
  const template = join(tmpdir(), `idp-pg-template-${bin.replace(/\W+/g, '_')}-${owner}`);
  if (existsSync(join(template, 'PG_VERSION'))) return template;
  const staging = mkdtempSync(join(tmpdir(), 'idp-pg-staging-'));
  if (isRoot()) {
    const { uid, gid } = serverUserIds();
    chownSync(staging, uid, gid);
  }
  execFileSync(
    join(bin, 'initdb'),
    [
      '-D',
      join(staging, 'data'),
      '-U',
      'postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C.UTF-8',
      '--no-sync',
    ],
    { stdio: 'pipe', cwd: staging, ...asServerUser() },
  );
  try {
    renameSync(join(staging, 'data'), template); // atomic: parallel test workers may race here
  } catch {
    // another worker won the race; its template is as good as ours
  }
  rmSync(staging, { recursive: true, force: true });
  return template;
}

export interface PostgresOptions {
  /** Keep the cluster in this folder across runs (the local stack); default: a throwaway temp dir. */
  dir?: string;
  port?: number;
}

/**
 * Starts a real PostgreSQL server on loopback (trust auth). Throwaway by default: initdb'd from a
 * cached template, durability off, deleted on stop. With `dir`, the data persists there.
 */
export async function startPostgres(o: PostgresOptions = {}): Promise<TestPostgres> {
  const bin = postgresBinDir();
  const persistent = o.dir !== undefined;
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'pg-'));
  const data = join(dir, 'data');
  mkdirSync(dir, { recursive: true });
  if (isRoot()) {
    const { uid, gid } = serverUserIds();
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
  }
  if (!existsSync(join(data, 'PG_VERSION'))) {
    // initdb is the slow part: do it once per machine into a template and copy that.
    execFileSync('cp', ['-a', ensureTemplate(bin), data]);
    const throwaway = persistent
      ? ''
      : 'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n';
    writeFileSync(join(data, 'postgresql.auto.conf'), `${throwaway}max_connections = 200\n`);
    if (isRoot()) execFileSync('chown', ['postgres:postgres', join(data, 'postgresql.auto.conf')]);
  }
  const port = o.port ?? (await freePort());
  const child: ChildProcess = spawn(
    join(bin, 'postgres'),
    ['-D', data, '-p', String(port), '-k', dir, '-h', '127.0.0.1'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      cwd: dir,
      ...asServerUser(),
    },
  );
  endWithThisProcess(child, persistent ? 'SIGINT' : 'SIGQUIT');
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`postgres exited (${code}): ${stderr}`))),
  );
  await Promise.race([waitForPort(port), exited]);
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  // The port opens slightly before the server accepts queries.
  for (let i = 0; ; i++) {
    const c = new Client({ connectionString: url });
    try {
      await c.connect();
      await c.end();
      break;
    } catch (e) {
      await c.end().catch(() => undefined);
      if (i > 100) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    port,
    async createDatabase(name?: string) {
      const db = name ?? `t_${process.pid}_${Date.now()}_${counter++}`;
      const c = new Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE "${db.replace(/"/g, '')}"`);
      } finally {
        await c.end();
      }
      return `postgresql://postgres@127.0.0.1:${port}/${db}`;
    },
    async stop() {
      if (child.exitCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          // Throwaway data need no checkpoint (immediate); kept data get a clean fast shutdown.
          child.kill(persistent ? 'SIGINT' : 'SIGQUIT');
          setTimeout(() => child.kill('SIGKILL'), 10000).unref();
        });
      }
      if (!persistent) rmSync(dir, { recursive: true, force: true });
    },
  };
}
