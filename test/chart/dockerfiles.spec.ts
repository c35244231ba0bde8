// The images, checked without a container engine: each Dockerfile prunes the workspace to its
// package, installs production dependencies only (in a stage of their own), runs non-root under
// tini with no HEALTHCHECK, and agrees with the chart (user id, ports, working directory).
// image-contents.spec.ts replays one of them (scim) and checks what the image holds.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ofKind, renderSet, repoRoot } from './support/chart';
import { imageRuntime } from './support/dockerfile';
import { parseDockerfile, productionWorkspaces } from './support/image-build';
import { containerOf, podTemplateOf } from './support/pods';
import { sourceDirOf } from './support/simulate';

const workspaces = [
  'services/portal',
  'services/policy-api',
  'services/scim',
  'services/token-broker',
  'dev-azure',
];

describe.each(workspaces)('%s/Dockerfile', (ws) => {
  const dockerfile = join(repoRoot, ws, 'Dockerfile');
  const text = () => readFileSync(dockerfile, 'utf8');
  const pkg = () =>
    JSON.parse(readFileSync(join(repoRoot, ws, 'package.json'), 'utf8')) as {
      name: string;
      scripts?: Record<string, string>;
    };

  it('is multi-stage and builds from `turbo prune <its package> --docker`', () => {
    expect(text().match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(3);
    expect(text()).toContain(`turbo prune ${pkg().name} --docker`);
    expect(text()).toContain(`turbo run build --filter=${pkg().name}...`);
  });

  it('installs production dependencies only, in a stage of their own, and copies the repo scripts its build or runtime loads', () => {
    // A fresh install of this workspace's production tree (npm ci, or the lockfile-guided install
    // when the pruned lockfile lacks other platforms' optional entries), without the dev, optional
    // and peer dependencies npm would otherwise keep (prisma CLI, typescript).
    const omit = `--workspace=${pkg().name} --omit=dev --omit=optional --omit=peer`;
    expect(text()).toContain(`RUN npm ci ${omit} `);
    expect(text()).toContain(`|| npm install ${omit} `);
    expect(text()).toMatch(/^FROM \$\{NODE_IMAGE\} AS deps$/m);
    // The runtime stage takes /app from there only; the build stage contributes dist/ folders (and
    // the files the code reads) of exactly the workspaces in the production dependency tree.
    const stages = parseDockerfile(dockerfile);
    const runtimeCopies = stages
      .at(-1)!
      .instructions.filter((i) => i.op === 'COPY')
      .map((i) => i.args);
    expect(runtimeCopies).toEqual(['--from=deps /app /app']);
    const fromBuild = stages
      .find((s) => s.name === 'deps')!
      .instructions.filter((i) => i.op === 'COPY' && i.args.startsWith('--from=build '));
    const dists = fromBuild
      .map((i) => /^--from=build \/app\/(\S+)\/dist\/ (\S+)\/dist\/$/.exec(i.args))
      .filter((m) => m !== null);
    for (const m of dists) expect(m[2]).toBe(m[1]);
    expect(dists.map((m) => m[1]).sort()).toEqual(productionWorkspaces(repoRoot, ws));
    if (existsSync(join(repoRoot, ws, 'prisma', 'migrations')))
      expect(text()).toContain(
        `COPY --from=build /app/${ws}/prisma/migrations/ ${ws}/prisma/migrations/`,
      );
    const scripts = JSON.stringify(pkg().scripts ?? {}).match(/scripts\/[\w-]+\.mjs/g) ?? [];
    const build = pkg().scripts?.generate
      ? scripts.filter((s) => JSON.stringify(pkg().scripts?.generate).includes(s))
      : [];
    // Code that loads a repo script at run time, e.g. path.resolve(__dirname, ..., 'scripts', 'dev-ca.mjs').
    const dist = join(repoRoot, ws, 'dist');
    const runtime = (readdirSync(dist, { recursive: true }) as string[])
      .filter((f) => f.endsWith('.js'))
      .flatMap((f) =>
        [...readFileSync(join(dist, f), 'utf8').matchAll(/'scripts', '([\w-]+\.mjs)'/g)].map(
          (m) => `scripts/${m[1]}`,
        ),
      );
    // dev-azure's dev CA code is the workspace package @idp/dev-ca (its dist/, copied like any
    // production workspace's), not scripts/dev-ca.mjs: its image needs no repo script.
    if (ws === 'dev-azure') expect(runtime).toEqual([]);
    for (const s of [...build, ...runtime]) expect(text()).toContain(`COPY ${s} scripts/`);
    for (const s of runtime) expect(text()).toContain(`COPY --from=build /app/${s} scripts/`);
  });

  it('runs as a numeric non-root user under tini, without HEALTHCHECK', () => {
    const rt = imageRuntime(dockerfile);
    expect(rt.user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(rt.entrypoint).toEqual(['/usr/bin/tini', '--']);
    expect(rt.cmd).toEqual(['node', 'dist/main.js']);
    expect(text()).not.toMatch(/^HEALTHCHECK/m);
    expect(text()).toMatch(/FROM \$\{NODE_IMAGE\} AS runtime/);
    expect(text()).toMatch(/^ARG NODE_IMAGE=node:24(\.[\d.]+)?-\w+-slim$/m); // Node 24 LTS, as engines.node
  });

  it('agrees with the chart: working directory, user id and container ports', () => {
    const rt = imageRuntime(dockerfile);
    expect(rt.workdir).toBe(`/app/${ws}`);
    const deployment = ofKind(renderSet('kind').objects, 'Deployment').find(
      (d) => sourceDirOf(repoRoot, containerOf(d).image) === join(repoRoot, ws),
    )!;
    const t = podTemplateOf(deployment)!;
    expect(String(t.spec.securityContext?.runAsUser)).toBe(rt.user!.split(':')[0]);
    const exposed = [...text().matchAll(/^EXPOSE (.+)$/gm)]
      .flatMap((m) => (m[1] ?? '').split(/\s+/))
      .map(Number)
      .sort();
    expect((containerOf(deployment).ports ?? []).map((p) => p.containerPort).sort()).toEqual(
      exposed,
    );
  });
});

describe('.dockerignore', () => {
  it('keeps dependencies, build output, git and local state out of the build context but keeps workspace manifests', () => {
    const lines = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    for (const p of ['**/node_modules', '**/dist', '.git', '.dev', '**/.env'])
      expect(lines).toContain(p);
    expect(lines).toContain('!test/package.json');
    expect(lines).toContain('!benchmarks/package.json');
  });
});
