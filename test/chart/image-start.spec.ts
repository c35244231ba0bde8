// The other four images, replayed like scim's (image-contents.spec.ts) but taking the build
// stage's output from this repository's own build: their deps stage really installs the
// production dependencies, their COPY lines really assemble /app. Each must hold no build or test
// tooling, resolve every module its code loads, carry the files it reads at run time, and start
// with its CMD in its WORKDIR (the services up to their configuration check; the stand-ins all
// the way, then stop on SIGTERM).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { repoRoot } from './support/chart';
import { imageRuntime } from './support/dockerfile';
import {
  FORBIDDEN,
  installedPackages,
  simulateImage,
  unresolvedModules,
  type Simulation,
} from './support/image-build';

jest.setTimeout(300_000);

const files = (d: string): string[] =>
  readdirSync(d, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(d, join(e.parentPath, e.name)));

describe.each([
  { ws: 'services/portal', reads: ['views', 'public'], configError: /PUBLIC_BASE_URL|B2C_/ },
  { ws: 'services/policy-api', reads: [], configError: /DATABASE_URL|B2C_IDENTITY_METADATA/ },
  { ws: 'services/token-broker', reads: [], configError: /KEY_VAULT_URL|TOKEN_BROKER_CONFIG/ },
  { ws: 'dev-azure', reads: ['config'], configError: undefined },
])('$ws/Dockerfile, replayed', ({ ws, reads, configError }) => {
  const dockerfile = join(repoRoot, ws, 'Dockerfile');
  let dir: string;
  let sim: Simulation;
  let app: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), `imgsim-${ws.split('/').pop()}-`));
    sim = simulateImage({ repoRoot, dockerfile, dir, reuseRepoBuildFor: ['build'] });
    app = join(sim.final.root, 'app');
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('holds production dependencies only and resolves every module its code loads', () => {
    const names = installedPackages(app).map((p) => p.replace(/^.*node_modules\//, ''));
    expect(names.length).toBeGreaterThan(10);
    expect(names.filter((n) => FORBIDDEN.some((re) => re.test(n)))).toEqual([]);
    expect(unresolvedModules(app, sim.final.env)).toEqual([]);
  });

  it('carries the files it reads at run time', () => {
    for (const r of reads)
      expect({ r, files: files(join(app, ws, r)) }).toEqual({
        r,
        files: files(join(repoRoot, ws, r)),
      });
  });

  it('starts with the CMD in the WORKDIR', async () => {
    const rt = imageRuntime(dockerfile);
    const env = { PATH: process.env.PATH ?? '', HOME: dir, ...sim.final.env };
    const workdir = join(sim.final.root, rt.workdir);
    if (configError) {
      // Without configuration a service refuses to start, naming what is missing: everything it loads is there.
      const r = spawnSync(process.execPath, rt.cmd.slice(1), {
        cwd: workdir,
        env,
        encoding: 'utf8',
        timeout: 60_000,
      });
      const out = `${r.stdout}${r.stderr}`;
      expect(out).not.toMatch(/MODULE_NOT_FOUND|Cannot find module/);
      expect(r.status).not.toBe(0);
      expect(out).toMatch(configError);
      return;
    }
    // The stand-ins start on defaults (free ports, a data dir): wait for their banner, then SIGTERM.
    const child = spawn(process.execPath, rt.cmd.slice(1), {
      cwd: workdir,
      env: {
        ...env,
        DEV_AZURE_IDENTITY_PORT: '0',
        DEV_AZURE_KEYVAULT_PORT: '0',
        DEV_AZURE_DATA_DIR: join(dir, 'state'),
        DEV_CA_DIR: join(dir, 'ca'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    for (
      let i = 0;
      i < 300 && !/dev-azure key vault: https:\/\//.test(out) && child.exitCode === null;
      i++
    )
      await new Promise((r) => setTimeout(r, 100));
    expect(out).toMatch(/dev-azure identity: {2}https:\/\/localhost:\d+/);
    expect(out).toMatch(/dev-azure key vault: https:\/\//);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
