// PostgreSQL server binaries (initdb, postgres): Debian/Ubuntu's /usr/lib/postgresql/<v>/bin or the
// ones on PATH, else the pinned npm build in tools/postgres, else the OS package. PG_BIN_DIR is
// the folder the tests and `npm run up` use. IDP_NO_SYSTEM_POSTGRES=1 skips the system ones.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { npmPackage } from '../methods.mjs';
import { pins } from '../pins.mjs';

const own = (ctx) => path.join(ctx.tools, 'postgres', 'native', 'bin');
const debianDirs = () =>
  existsSync('/usr/lib/postgresql')
    ? readdirSync('/usr/lib/postgresql')
        .sort((a, b) => Number(b) - Number(a))
        .map((v) => `/usr/lib/postgresql/${v}/bin`)
    : [];
const brewDirs = ['/opt/homebrew/opt/postgresql@17/bin', '/usr/local/opt/postgresql@17/bin'];

export const postgres = {
  name: 'postgres',
  override: 'PG_BIN_DIR',
  // Candidates are folders: the version probe runs <dir>/postgres.
  candidates(ctx) {
    const system =
      ctx.env.IDP_NO_SYSTEM_POSTGRES === '1'
        ? []
        : [...debianDirs(), ctx.which('initdb') && path.dirname(ctx.which('initdb')), ...brewDirs];
    return [...system.filter(Boolean).map((d) => ({ path: d })), { path: own(ctx) }];
  },
  version(ctx, dir) {
    if (!existsSync(path.join(dir, 'initdb'))) throw new Error(`no initdb in ${dir}`);
    const v = /\(PostgreSQL\) (\d+(\.\d+)?)/.exec(
      ctx.run(path.join(dir, 'postgres'), ['--version']),
    )?.[1];
    if (v && ctx.isRoot) runnableByServerUser(ctx, dir);
    return v;
  },
  methods: [
    {
      name: `npm registry package (PostgreSQL ${pins.postgres.version.split('-')[0]})`,
      unavailable: (ctx) =>
        pins.postgres.npm[`${ctx.platform}-${ctx.arch}`]
          ? undefined
          : `no npm build for ${ctx.platform}-${ctx.arch}`,
      install(ctx) {
        const root = npmPackage(
          ctx,
          { ...pins.postgres.npm[`${ctx.platform}-${ctx.arch}`], version: pins.postgres.version },
          path.join(ctx.tools, 'postgres'),
        );
        hydrateSymlinks(root);
        return own(ctx);
      },
    },
    {
      name: 'apt-get install postgresql',
      unavailable: (ctx) => ctx.aptUnavailable(),
      install: (ctx) => (ctx.apt(['postgresql']), debianDirs()[0]),
    },
    {
      name: 'brew install postgresql@17',
      unavailable: (ctx) => ctx.brewUnavailable(),
      install: (ctx) => (ctx.run('brew', ['install', 'postgresql@17']), brewDirs.find(existsSync)),
    },
  ],
  fix: 'apt-get install postgresql (Debian/Ubuntu), brew install postgresql@17 (macOS), or set PG_BIN_DIR to the folder holding initdb and postgres',
  env: (dir) => ({ PG_BIN_DIR: dir }),
};

/**
 * The package's own postinstall script (not run: --ignore-scripts) recreates the shared-library
 * symlinks npm tarballs cannot hold; this does the same from its pg-symlinks.json.
 */
function hydrateSymlinks(root) {
  const list = path.join(root, 'native', 'pg-symlinks.json');
  if (!existsSync(list)) return;
  for (const { source, target } of JSON.parse(readFileSync(list, 'utf8'))) {
    const at = path.join(root, target);
    if (!existsSync(at)) symlinkSync(path.relative(path.dirname(at), path.join(root, source)), at);
  }
}

/**
 * PostgreSQL refuses to run as root, so as root the tests run it as the `postgres` user
 * (packages/testing/src/postgres.ts): create that user when missing and check it can run these binaries.
 */
function runnableByServerUser(ctx, dir) {
  const id = (flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    id('-u');
  } catch {
    ctx.run('useradd', [
      '--system',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      'postgres',
    ]);
  }
  ctx.run(path.join(dir, 'initdb'), ['--version'], { uid: id('-u'), gid: id('-g'), cwd: '/' });
}
