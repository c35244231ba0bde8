// Chart <-> code: every variable the chart sets is one the service reads (the keys of the zod
// schema in services/<name>/src/config.ts, built to dist/config.js), every variable the
// service requires is set, and the probes and ports line up with what the service is told.
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ofKind, renderSet, repoRoot, valueSets } from './support/chart';
import { envProblems, serviceEnvSchema } from './support/service-env';
import { localProcess, type World } from './support/simulate';

/** Read by Node itself, not by the service's config. */
const NODE_RUNTIME = ['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS'];

// Every Secret and ConfigMap exists; values look like what the README tells users to store.
const sample = (key: string): string =>
  key.endsWith('database-url')
    ? 'postgresql://app:secret@db.example:5432/app?sslmode=require'
    : key.endsWith('encryption-key')
      ? Buffer.alloc(32, 7).toString('base64')
      : 'test-value';
const anything = new Proxy(
  {},
  { get: () => new Proxy({}, { get: (_t, key) => sample(String(key)) }) },
) as Record<string, Record<string, string>>;
const world: World = {
  repoRoot,
  secrets: anything,
  configMaps: anything,
  hosts: {},
  dir: join(tmpdir(), `chart-env-${process.pid}`),
  serviceAccountToken: () => 'token',
  webhook: {
    tenantId: '00000000-0000-0000-0000-000000000000',
    authorityHost: 'https://login.microsoftonline.com/',
  },
};

afterAll(() => rmSync(world.dir, { recursive: true, force: true }));

const servicesOf = (set: (typeof valueSets)[number]) =>
  ofKind(renderSet(set).objects, 'Deployment')
    .map((d) => localProcess(d, renderSet(set).objects, world, {}))
    .filter((p) => p.sourceDir.startsWith(join(repoRoot, 'services')));

const schemas = new Map<string, ReturnType<typeof serviceEnvSchema>>();
const schemaOf = (dir: string) => {
  if (!schemas.has(dir)) schemas.set(dir, serviceEnvSchema(dir));
  return schemas.get(dir)!;
};

describe.each(valueSets)('%s values', (set) => {
  const services = () => servicesOf(set);

  it('renders a Deployment for each of the four services', () => {
    expect(
      services()
        .map((p) => p.sourceDir.split('/').pop())
        .sort(),
    ).toEqual(['policy-api', 'portal', 'scim', 'token-broker']);
  });

  it('sets only variables the services read', () => {
    const unknown = services().flatMap((p) => {
      const { keys } = schemaOf(p.sourceDir);
      return p.manifestEnv
        .filter((n) => !keys.includes(n) && !p.helperEnv.includes(n) && !NODE_RUNTIME.includes(n))
        .map((n) => `${p.owner}: ${n}`);
    });
    expect(unknown).toEqual([]);
  });

  it('tells each service the port its probes and Service use, and probes /healthz and /readyz', () => {
    for (const p of services()) {
      const http = p.container.ports?.find((x) => x.name === 'http');
      expect(http).toBeDefined();
      expect(p.portEnv[http!.containerPort]).toBe('PORT');
      expect(p.container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(p.container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
    }
  });

  it('sets only DEV_AZURE_* variables the stand-ins read', () => {
    const devAzure = ofKind(renderSet(set).objects, 'Deployment').find((d) =>
      d.metadata.name.endsWith('dev-azure'),
    );
    if (!devAzure) return; // off in this value set (asserted in render.spec.ts)
    const main = readFileSync(join(repoRoot, 'dev-azure', 'dist', 'main.js'), 'utf8');
    const p = localProcess(devAzure, renderSet(set).objects, world, {});
    const unread = p.manifestEnv.filter(
      (n) =>
        !NODE_RUNTIME.includes(n) &&
        !main.includes(`'${n}'`) &&
        !main.includes(`"${n}"`) &&
        !main.includes(`.${n}`),
    );
    expect(unread).toEqual([]);
  });
});

// The chart's defaults leave tenant-specific settings to the user (the services then refuse to
// start, naming each one); the kind and AKS values the chart ships must be complete.
describe.each(['kind', 'aks'] as const)('%s values are complete', (set) => {
  it('set every variable the services require', () => {
    const missing = servicesOf(set).flatMap((p) => {
      const { required } = schemaOf(p.sourceDir);
      const given = new Set([...p.manifestEnv, ...p.injectedEnv]);
      return required.filter((n) => !given.has(n)).map((n) => `${p.owner}: ${n}`);
    });
    expect(missing).toEqual([]);
  });

  it('give each service an environment its own config schema accepts (refinements included)', () => {
    // values-aks.yaml has <placeholders> for tenant-specific ids and names: fill them in.
    const fill = (v: string) =>
      v
        .replace(/<[^>]*-id>/g, '11111111-2222-4333-8444-555555555555')
        .replace(/<[^>]+>/g, 'example');
    const problems = servicesOf(set).flatMap((p) => {
      const env = Object.fromEntries(Object.entries(p.env).map(([k, v]) => [k, fill(v)]));
      return envProblems(p.sourceDir, env).map((e) => `${p.owner}: ${e}`);
    });
    expect(problems).toEqual([]);
  });
});
