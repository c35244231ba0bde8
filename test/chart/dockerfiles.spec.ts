// The images, checked without a container engine: each Dockerfile prunes the workspace to its
// package, keeps production dependencies only, runs non-root under tini with no HEALTHCHECK,
// and agrees with the chart (user id, ports, working directory).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ofKind, renderSet, repoRoot } from './support/chart';
import { imageRuntime } from './support/dockerfile';
import { podTemplateOf } from './support/pods';
import { sourceDirOf } from './support/simulate';

const workspaces = ['services/portal', 'services/policy-api', 'services/scim', 'services/token-broker', 'dev-azure'];

describe.each(workspaces)('%s/Dockerfile', (ws) => {
  const dockerfile = join(repoRoot, ws, 'Dockerfile');
  const text = () => readFileSync(dockerfile, 'utf8');
  const pkg = () => JSON.parse(readFileSync(join(repoRoot, ws, 'package.json'), 'utf8')) as { name: string; scripts?: Record<string, string> };

  it('is multi-stage and builds from `turbo prune <its package> --docker`', () => {
    expect(text().match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(3);
    expect(text()).toContain(`turbo prune ${pkg().name} --docker`);
    expect(text()).toContain(`turbo run build --filter=${pkg().name}...`);
  });

  it('keeps production dependencies only and copies the repo scripts its build or runtime loads', () => {
    expect(text()).toMatch(/npm prune --omit=dev/);
    const scripts = JSON.stringify(pkg().scripts ?? {}).match(/scripts\/[\w-]+\.mjs/g) ?? [];
    const build = pkg().scripts?.generate ? scripts.filter((s) => JSON.stringify(pkg().scripts?.generate).includes(s)) : [];
    // Code that loads a repo script at run time, e.g. path.resolve(__dirname, ..., 'scripts', 'dev-ca.mjs').
    const dist = join(repoRoot, ws, 'dist');
    const runtime = (readdirSync(dist, { recursive: true }) as string[])
      .filter((f) => f.endsWith('.js'))
      .flatMap((f) => [...readFileSync(join(dist, f), 'utf8').matchAll(/'scripts', '([\w-]+\.mjs)'/g)].map((m) => `scripts/${m[1]}`));
    if (ws === 'dev-azure') expect(runtime).toContain('scripts/dev-ca.mjs');
    for (const s of [...build, ...runtime]) expect(text()).toContain(`COPY ${s} scripts/`);
  });

  it('runs as a numeric non-root user under tini, without HEALTHCHECK', () => {
    const rt = imageRuntime(dockerfile);
    expect(rt.user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(rt.entrypoint).toEqual(['/usr/bin/tini', '--']);
    expect(rt.cmd).toEqual(['node', 'dist/main.js']);
    expect(text()).not.toMatch(/^HEALTHCHECK/m);
    expect(text()).toMatch(/FROM \$\{NODE_IMAGE\} AS runtime/);
    expect(text()).toMatch(/ARG NODE_IMAGE=node:[\d.]+-\w+-slim/);
  });

  it('agrees with the chart: working directory, user id and container ports', () => {
    const rt = imageRuntime(dockerfile);
    expect(rt.workdir).toBe(`/app/${ws}`);
    const deployment = ofKind(renderSet('kind').objects, 'Deployment').find((d) => sourceDirOf(repoRoot, podTemplateOf(d)!.spec.containers[0].image) === join(repoRoot, ws))!;
    const t = podTemplateOf(deployment)!;
    expect(String(t.spec.securityContext?.runAsUser)).toBe(rt.user!.split(':')[0]);
    const exposed = [...text().matchAll(/^EXPOSE (.+)$/gm)].flatMap((m) => m[1].split(/\s+/)).map(Number).sort();
    expect(t.spec.containers[0].ports!.map((p) => p.containerPort).sort()).toEqual(exposed);
  });
});

describe('.dockerignore', () => {
  it('keeps dependencies, build output, git and local state out of the build context but keeps workspace manifests', () => {
    const lines = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const p of ['**/node_modules', '**/dist', '.git', '.dev', '**/.env']) expect(lines).toContain(p);
    expect(lines).toContain('!test/package.json');
    expect(lines).toContain('!benchmarks/package.json');
  });
});
