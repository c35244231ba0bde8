// The scim image (the one that uses Prisma), built without a container engine: every stage of
// services/scim/Dockerfile is replayed from its own COPY and RUN lines (support/image-build.ts;
// only the apt-get/npm -g tool installs are skipped), then the runtime stage's /app is checked:
// production dependencies only (no prisma CLI, @prisma/engines, typescript, jest, @types,
// @idp/testing), only the service's and its workspace packages' build output, and it works
// as the image's CMD and the chart's migration Job run it, against a real PostgreSQL and NATS.
// Set IMAGE_SIM_REUSE_BUILD=1 to take the build stage's output from this repository's own build
// (dist/) instead of installing and building inside the simulated stage (quicker locally).
import {
  freePort,
  startNats,
  startPostgres,
  waitForHttp,
  type TestNatsServer,
  type TestPostgres,
} from '@idp/testing';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { repoRoot } from './support/chart';
import { imageRuntime } from './support/dockerfile';
import {
  duBytes,
  FORBIDDEN,
  installedPackages,
  productionWorkspaces,
  simulateImage,
  unresolvedModules,
  type Simulation,
} from './support/image-build';

jest.setTimeout(240_000);

const ws = 'services/scim';
const dockerfile = join(repoRoot, ws, 'Dockerfile');

let dir: string;
let sim: Simulation;
let app: string;
let workdir: string;
let simSeconds = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'imgsim-scim-'));
  const t0 = Date.now();
  sim = simulateImage({
    repoRoot,
    dockerfile,
    dir,
    reuseRepoBuildFor: process.env.IMAGE_SIM_REUSE_BUILD ? ['build'] : [],
  });
  simSeconds = (Date.now() - t0) / 1000;
  app = join(sim.final.root, 'app');
  // The image's WORKDIR, as boot.spec reads it.
  workdir = join(sim.final.root, imageRuntime(dockerfile).workdir);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs node as the container would: cwd, the image's ENV, nothing from this machine's npm or node settings. */
function nodeIn(cwd: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, args, {
    cwd,
    env: { PATH: process.env.PATH, HOME: dir, ...sim.final.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

const walk = (d: string, skip: (p: string) => boolean = () => false): string[] =>
  readdirSync(d, { withFileTypes: true }).flatMap((e) => {
    const p = join(d, e.name);
    if (skip(p)) return [];
    return e.isDirectory() ? [p, ...walk(p, skip)] : [p];
  });

describe(`${ws}/Dockerfile, replayed`, () => {
  it('skipped only the system tool installs, and this machine has the turbo version the image pins', () => {
    expect(sim.skipped).toHaveLength(2);
    const pinned = /npm install -g turbo@([\d.]+)/.exec(sim.skipped.join('\n'))?.[1];
    expect(pinned).toBe(
      (
        JSON.parse(
          readFileSync(join(repoRoot, 'node_modules', 'turbo', 'package.json'), 'utf8'),
        ) as { version: string }
      ).version,
    );
    console.warn(
      `image simulation: ${simSeconds.toFixed(1)}s; runtime node_modules ${(duBytes(join(app, 'node_modules')) / 1e6).toFixed(1)} MB`,
    );
  });

  it('holds only the service and the workspace packages it depends on: package.json, dist/ and the migrations', () => {
    const expected = productionWorkspaces(repoRoot, ws);
    expect(expected).toEqual(expect.arrayContaining(['packages/service-kit', ws]));
    expect(expected).not.toContain('packages/testing');
    const present = ['packages', 'services', 'dev-azure', 'test', 'benchmarks'].flatMap((top) =>
      existsSync(join(app, top))
        ? top === 'dev-azure'
          ? [top]
          : readdirSync(join(app, top)).map((n) => `${top}/${n}`)
        : [],
    );
    expect(present.sort()).toEqual(expected);
    for (const w of expected) {
      const entries = readdirSync(join(app, w)).sort();
      expect({ w, entries }).toEqual({
        w,
        entries: w === ws ? ['dist', 'package.json', 'prisma'] : ['dist', 'package.json'],
      });
    }
    expect(readdirSync(join(app, ws, 'prisma'))).toEqual(['migrations']);
    expect(readdirSync(join(app, ws, 'prisma', 'migrations')).sort()).toEqual(
      readdirSync(join(repoRoot, ws, 'prisma', 'migrations')).sort(),
    );
    // No sources, declarations or source maps; the Prisma client is the compiled one in dist/generated.
    const files = walk(app, (p) => p.endsWith('node_modules')).map((p) => relative(app, p));
    expect(files.filter((f) => /\.(ts|map)$/.test(f) || f.includes('/src/'))).toEqual([]);
    expect(files).toContain(`${ws}/dist/generated/prisma/client.js`);
  });

  it('has production dependencies only: no Prisma CLI or engines, TypeScript, test tooling or type packages', () => {
    const names = installedPackages(app).map((p) => p.replace(/^.*node_modules\//, ''));
    expect(names).toEqual(
      expect.arrayContaining(['@prisma/client', '@prisma/adapter-pg', 'pg', '@nestjs/core']),
    );
    expect(names.filter((n) => FORBIDDEN.some((re) => re.test(n)))).toEqual([]);
    // No native engine binaries (the prisma-client generator with @prisma/adapter-pg needs none),
    // and of Prisma's WebAssembly query compilers only PostgreSQL's.
    const nm = walk(join(app, 'node_modules')).map((p) => relative(app, p));
    expect(nm.filter((f) => /(query[-_]engine|schema-engine|libquery|\.node$)/.test(f))).toEqual(
      [],
    );
    const compilers = nm.filter((f) => /query_compiler_/.test(f));
    expect(compilers.length).toBeGreaterThan(0);
    expect(compilers.filter((f) => !f.includes('.postgresql.'))).toEqual([]);
    // Every link resolves (workspace links of dev-only workspaces were removed with them).
    const links = walk(app).filter((p) => lstatSync(p).isSymbolicLink());
    expect(links.filter((l) => !existsSync(l)).map((l) => relative(app, l))).toEqual([]);
    const workspaceNames = productionWorkspaces(repoRoot, ws).map(
      (w) =>
        (JSON.parse(readFileSync(join(repoRoot, w, 'package.json'), 'utf8')) as { name: string })
          .name,
    );
    expect(
      readdirSync(join(app, 'node_modules', '@idp'))
        .map((n) => `@idp/${n}`)
        .sort(),
    ).toEqual(workspaceNames.sort());
  });

  it("resolves every module the built code requires or imports, from inside the image's /app", () => {
    // Static and lazy ones alike (e.g. the generated client's `import("@prisma/client/runtime/query_compiler_fast_bg.postgresql.js")`).
    expect(unresolvedModules(app, sim.final.env)).toEqual([]);
  });

  it('starts with the CMD in the WORKDIR and stops at the missing configuration, not at a missing module', () => {
    const rt = imageRuntime(dockerfile);
    expect(rt.cmd[0]).toBe('node');
    const r = nodeIn(workdir, rt.cmd.slice(1));
    const out = `${r.stdout}${r.stderr}`;
    expect(out).not.toMatch(/MODULE_NOT_FOUND|Cannot find module|ERR_MODULE_NOT_FOUND/);
    expect(r.status).not.toBe(0);
    expect(out).toMatch(/DATABASE_URL: is required but not set/);
  });

  describe('against PostgreSQL and NATS', () => {
    let pg: TestPostgres;
    let nats: TestNatsServer;
    let databaseUrl: string;

    beforeAll(async () => {
      [pg, nats] = await Promise.all([startPostgres(), startNats()]);
      databaseUrl = await pg.createDatabase('scim');
    });
    afterAll(async () => {
      await Promise.all([pg?.stop(), nats?.dispose()]);
    });

    it("applies the migrations with the migration Job's command, and the Prisma client queries through the adapter", async () => {
      // As the chart's Job runs it: from /app, with the image's own migrate CLI and migrations.
      const job = nodeIn(
        app,
        ['node_modules/@idp/service-kit/dist/migrate/cli.js', `${ws}/prisma/migrations`],
        { DATABASE_URL: databaseUrl },
      );
      expect({ status: job.status, out: job.stdout + job.stderr }).toEqual({
        status: 0,
        out: expect.stringMatching(/migration\(s\) applied/),
      });
      // The operator CLI shipped in the image writes and reads through Prisma (query compiler + @prisma/adapter-pg).
      const directory = nodeIn(
        workdir,
        ['dist/cli/admin-cli.js', 'directory', 'create', 'image-test'],
        {
          DATABASE_URL: databaseUrl,
        },
      );
      expect({ status: directory.status, err: directory.stderr }).toEqual({
        status: 0,
        err: expect.any(String),
      });
      const create = nodeIn(
        workdir,
        ['dist/cli/admin-cli.js', 'token', 'create', 'image-test', 'ci'],
        { DATABASE_URL: databaseUrl },
      );
      expect({ status: create.status, err: create.stderr }).toEqual({
        status: 0,
        err: expect.any(String),
      });
      const { token } = JSON.parse(create.stdout) as { token: string };
      expect(token).toEqual(expect.any(String));

      // And the service itself, started as the container would be, serves a SCIM list from the database.
      const port = await freePort();
      const child = spawn(process.execPath, imageRuntime(dockerfile).cmd.slice(1), {
        cwd: workdir,
        env: {
          PATH: process.env.PATH,
          HOME: dir,
          ...sim.final.env,
          DATABASE_URL: databaseUrl,
          NATS_URL: nats.url,
          PORT: String(port),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      try {
        await waitForHttp(`http://127.0.0.1:${port}/readyz`, { timeoutMs: 60_000 }).catch(
          (e: Error) => {
            throw new Error(`${e.message}\n${out}`);
          },
        );
        const users = await fetch(`http://127.0.0.1:${port}/image-test/scim/v2/Users`, {
          headers: { authorization: `Bearer ${token}` },
        });
        expect({ status: users.status, body: (await users.json()) as unknown }).toEqual({
          status: 200,
          body: expect.objectContaining({ totalResults: 0 }),
        });
      } finally {
        child.kill('SIGTERM');
        await exited;
      }
      expect(out).not.toMatch(/MODULE_NOT_FOUND|Cannot find module/);
    });
  });
});
