// Renders helm/identity-platform with the real helm binary and parses/validates the output
// with the python kubernetes-validate package (offline OpenAPI schemas).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '..', '..', '..');
export const chartDir = join(repoRoot, 'helm', 'identity-platform');
/** Kubernetes version helm renders for (the chart needs >= 1.30; helm's built-in default is older). */
export const kubeVersion = '1.34.0';
/** OpenAPI schema versions every object is validated against (oldest supported-ish and newest shipped). */
export const schemaVersions = ['1.34.0', '1.37.0'];
export const release = 'identity';
export const namespace = 'identity-platform';

/**
 * Values that make the chart defaults renderable: an external NATS (and where it lives), where
 * the external PostgreSQL lives, and a vault URL are required.
 */
export const defaultSets = [
  'messaging.url=nats://nats.messaging.svc:4222',
  'messaging.cidr=10.30.0.0/24',
  'postgresql.external.cidr=10.20.0.0/24',
  'tokenBroker.keyVault.url=https://kv-identity.vault.azure.net',
  'tokenBroker.workloadIdentity.clientId=6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f',
  'tokenBroker.registrations[0].name=partner-api',
  'tokenBroker.registrations[0].tenantId=00000000-0000-0000-0000-000000000000',
  'tokenBroker.registrations[0].clientId=11111111-1111-1111-1111-111111111111',
  'tokenBroker.registrations[0].certificateName=partner-api',
];

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  [k: string]: unknown;
}

export function helmBinary(): string {
  const found = spawnSync('sh', ['-c', 'command -v helm'], { encoding: 'utf8' }).stdout.trim();
  if (!found) {
    throw new Error(
      'helm is not installed. .ci/run installs it with: GOBIN=/usr/local/bin go install helm.sh/helm/v3/cmd/helm@v3.22.0',
    );
  }
  return found;
}

let offlineChart: string | undefined;
/**
 * The chart without the undownloadable `nats` dependency (k8s/offline-chart.sh). The copy lives
 * at a path named by a hash of the chart's files, so test processes share it and re-runs
 * reuse it instead of leaving a new copy behind each time.
 */
export function renderableChart(): string {
  if (offlineChart !== undefined) return offlineChart;
  const hash = createHash('sha256');
  for (const f of (readdirSync(chartDir, { recursive: true }) as string[]).sort()) {
    const p = join(chartDir, f);
    if (statSync(p).isFile()) hash.update(f).update(readFileSync(p));
  }
  const dir = join(tmpdir(), `idp-chart-${hash.digest('hex').slice(0, 16)}`);
  const ready = join(dir, '.ready');
  if (!existsSync(ready)) {
    // Build beside it and rename: parallel test processes may race here.
    const staging = `${dir}.${process.pid}`;
    const chart = execFileSync(join(repoRoot, 'k8s', 'offline-chart.sh'), {
      encoding: 'utf8',
      env: { ...process.env, OFFLINE_CHART_DIR: staging },
    }).trim();
    if (chart === chartDir) return (offlineChart = chartDir); // charts/ has the dependency: use the chart itself
    writeFileSync(join(staging, '.ready'), '');
    try {
      renameSync(staging, dir);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another process won
    }
  }
  offlineChart = join(dir, 'identity-platform');
  return offlineChart;
}

export interface HelmResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function helm(args: string[]): HelmResult {
  const r = spawnSync(helmBinary(), args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

export interface RenderOptions {
  valuesFiles?: string[];
  set?: string[];
}

export function templateArgs(o: RenderOptions): string[] {
  const chart = renderableChart();
  return [
    'template',
    release,
    chart,
    '--namespace',
    namespace,
    '--kube-version',
    kubeVersion,
    ...(o.valuesFiles ?? []).flatMap((f) => ['-f', join(chart, f)]),
    ...(o.set ?? []).flatMap((s) => ['--set', s]),
  ];
}

/** `helm template`, failing with helm's message when it refuses. */
export function renderYaml(o: RenderOptions): string {
  const r = helm(templateArgs(o));
  if (r.status !== 0) throw new Error(`helm template failed:\n${r.stderr}`);
  return r.stdout;
}

export interface Parsed {
  objects: K8sObject[];
  /** OpenAPI validation problems, one line each (empty when every object is valid). */
  errors: string[];
}

export function parseAndValidate(yaml: string, versions: string[] = schemaVersions): Parsed {
  const script = join(__dirname, 'manifests.py');
  const r = spawnSync('python3', [script, ...versions], {
    input: yaml,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0)
    throw new Error(`python3 ${script} failed (is python3 installed?):\n${r.stderr}`);
  const out = JSON.parse(r.stdout) as Parsed & { fatal?: string };
  if (out.fatal) throw new Error(out.fatal);
  return out;
}

const cache = new Map<string, Parsed>();
/**
 * Rendered objects for one of the three value sets the chart ships for. OpenAPI validation
 * (slow) only when asked: kubernetes-schema.spec.ts does it, the other suites just read.
 */
export function renderSet(name: 'default' | 'kind' | 'aks', validate = false): Parsed {
  const key = `${name}:${validate}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const o: RenderOptions =
    name === 'default' ? { set: defaultSets } : { valuesFiles: [`values-${name}.yaml`] };
  const parsed = parseAndValidate(renderYaml(o), validate ? schemaVersions : []);
  cache.set(key, parsed);
  return parsed;
}

export const valueSets = ['default', 'kind', 'aks'] as const;

export function ofKind<T extends K8sObject = K8sObject>(objects: K8sObject[], kind: string): T[] {
  return objects.filter((o) => o.kind === kind) as T[];
}
