// Turns a rendered workload into a local process the way a kubelet would run it: the image's
// command (from its Dockerfile), the manifest's env in order with $(VAR) expansion, Secrets
// and ConfigMaps resolved, mounted files materialized, and cluster host names and container
// ports mapped to local servers. The AKS workload identity webhook is simulated too.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { K8sObject } from './chart';
import { imageRuntime } from './dockerfile';
import { defined } from '../../support/defined';
import { podTemplateOf, type Container, type EnvVar, type PodTemplate } from './pods';

export interface World {
  repoRoot: string;
  /** Secret name -> key -> value (the Secrets users create before installing). */
  secrets: Record<string, Record<string, string>>;
  /** ConfigMaps not rendered by the chart (e.g. the dev CA bundle). */
  configMaps: Record<string, Record<string, string>>;
  /** Cluster address -> local address, e.g. "identity-nats:4222" -> "127.0.0.1:41234". Longest first. */
  hosts: Record<string, string>;
  /** Scratch directory for mounted files. */
  dir: string;
  /** Contents of a projected service-account token for an audience. */
  serviceAccountToken: (audience: string) => string;
  /** What the AKS workload identity webhook injects besides the client id. */
  webhook: { tenantId: string; authorityHost: string };
}

export interface LocalProcess {
  owner: string;
  /** Directory the image's code lives in inside the repo (services/<name> or dev-azure). */
  sourceDir: string;
  cwd: string;
  /** Node script and its arguments (tini dropped: it only forwards signals). */
  args: string[];
  env: Record<string, string>;
  /** Names the manifest sets on the container, in order. */
  manifestEnv: string[];
  /** Variables only there to be spliced into others with $(VAR). */
  helperEnv: string[];
  /** Variables the workload identity webhook would add. */
  injectedEnv: string[];
  /** containerPort -> env var that carries it (the service is told its port). */
  portEnv: Record<number, string>;
  container: Container;
  template: PodTemplate;
}

const WEBHOOK_TOKEN_PATH = '/var/run/secrets/azure/tokens/azure-identity-token';

/** identity-platform/portal:dev -> services/portal (or dev-azure). */
export function sourceDirOf(repoRoot: string, image: string): string {
  const [name = image] = (image.split('/').at(-1) ?? image).split(':');
  return name === 'dev-azure' ? join(repoRoot, 'dev-azure') : join(repoRoot, 'services', name);
}

function mapHosts(value: string, world: World): string {
  let v = value;
  for (const [from, to] of Object.entries(world.hosts).sort((a, b) => b[0].length - a[0].length))
    v = v.split(from).join(to);
  return v;
}

function mapPaths(value: string, mounts: Record<string, string>): string {
  for (const [from, to] of Object.entries(mounts).sort((a, b) => b[0].length - a[0].length)) {
    if (value === from || value.startsWith(`${from}/`)) return to + value.slice(from.length);
  }
  return value;
}

function expand(value: string, env: Record<string, string>): string {
  // Kubernetes semantics: $(VAR) of an earlier variable is replaced, $$( escapes, unknown stays.
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name?: string) =>
    m === '$$' ? '$' : ((name !== undefined ? env[name] : undefined) ?? m),
  );
}

export function localProcess(
  obj: K8sObject,
  objects: K8sObject[],
  world: World,
  localPorts: Record<number, number>,
): LocalProcess {
  const template = podTemplateOf(obj);
  if (!template) throw new Error(`${obj.kind}/${obj.metadata.name} has no pod template`);
  const c = defined(template.spec.containers[0], `${obj.kind}/${obj.metadata.name}: container`);
  const owner = `${obj.kind}/${obj.metadata.name}`;
  const sourceDir = sourceDirOf(world.repoRoot, c.image);
  const image = imageRuntime(join(sourceDir, 'Dockerfile'));
  const toRepo = (p: string) =>
    p === '/app' || p.startsWith('/app/') ? join(world.repoRoot, p.slice(5)) : p;

  // Mounted volumes -> local directories.
  const podDir = join(world.dir, obj.metadata.name);
  const mounts: Record<string, string> = {};
  const configMap = (name: string): Record<string, string> => {
    const rendered = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name);
    const data = rendered?.data ?? world.configMaps[name];
    if (!data)
      throw new Error(
        `${owner}: ConfigMap ${name} is neither rendered nor provided by the test world`,
      );
    return data;
  };
  for (const m of c.volumeMounts ?? []) {
    const vol = template.spec.volumes?.find((v) => v.name === m.name);
    const local = join(podDir, m.name);
    mkdirSync(local, { recursive: true });
    mounts[m.mountPath] = local;
    if (vol?.configMap)
      for (const [k, v] of Object.entries(configMap(vol.configMap.name)))
        writeFileSync(join(local, k), v);
    if (vol?.secret) {
      const data = world.secrets[vol.secret.secretName];
      if (!data)
        throw new Error(
          `${owner}: Secret ${vol.secret.secretName} is not provided by the test world`,
        );
      for (const [k, v] of Object.entries(data)) writeFileSync(join(local, k), v);
    }
    const sources =
      (
        vol?.projected as
          | {
              sources?: {
                configMap?: { name: string };
                serviceAccountToken?: { path: string; audience?: string };
              }[];
            }
          | undefined
      )?.sources ?? [];
    for (const s of sources) {
      if (s.configMap)
        for (const [k, v] of Object.entries(configMap(s.configMap.name)))
          writeFileSync(join(local, k), v);
      if (s.serviceAccountToken)
        writeFileSync(
          join(local, s.serviceAccountToken.path),
          world.serviceAccountToken(s.serviceAccountToken.audience ?? 'kubernetes'),
        );
    }
  }

  const secret = (name: string, key: string): string => {
    const v = world.secrets[name]?.[key];
    if (v === undefined)
      throw new Error(`${owner}: Secret ${name} key ${key} is not provided by the test world`);
    return v;
  };
  const env: Record<string, string> = {};
  const manifestEnv: string[] = [];
  const referenced = new Set<string>();
  for (const e of c.env ?? ([] as EnvVar[])) {
    manifestEnv.push(e.name);
    let v: string;
    if (e.value !== undefined) {
      for (const [, name] of e.value.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g))
        if (name) referenced.add(name);
      v = expand(e.value, env);
    } else if (e.valueFrom?.secretKeyRef)
      v = secret(e.valueFrom.secretKeyRef.name, e.valueFrom.secretKeyRef.key);
    else if (e.valueFrom?.configMapKeyRef)
      v = defined(
        configMap(e.valueFrom.configMapKeyRef.name)[e.valueFrom.configMapKeyRef.key],
        `${owner}: ConfigMap ${e.valueFrom.configMapKeyRef.name} key ${e.valueFrom.configMapKeyRef.key}`,
      );
    else if (e.valueFrom?.fieldRef) v = `${obj.metadata.name}-0`;
    else throw new Error(`${owner}: env ${e.name} has neither value nor a supported valueFrom`);
    env[e.name] = v;
  }

  // The AKS webhook: pods labelled azure.workload.identity/use get the identity of their ServiceAccount.
  const injectedEnv: string[] = [];
  if (template.metadata.labels?.['azure.workload.identity/use'] === 'true') {
    const sa = objects.find(
      (o) => o.kind === 'ServiceAccount' && o.metadata.name === template.spec.serviceAccountName,
    );
    const clientId = sa?.metadata.annotations?.['azure.workload.identity/client-id'];
    if (!clientId)
      throw new Error(
        `${owner}: workload identity pod without a client-id annotation on its ServiceAccount`,
      );
    const tokenDir = join(podDir, 'azure-identity-token');
    mkdirSync(tokenDir, { recursive: true });
    writeFileSync(
      join(tokenDir, 'azure-identity-token'),
      world.serviceAccountToken('api://AzureADTokenExchange'),
    );
    mounts['/var/run/secrets/azure/tokens'] = tokenDir;
    const injected: Record<string, string> = {
      AZURE_CLIENT_ID: clientId,
      AZURE_TENANT_ID:
        sa?.metadata.annotations?.['azure.workload.identity/tenant-id'] ?? world.webhook.tenantId,
      AZURE_FEDERATED_TOKEN_FILE: WEBHOOK_TOKEN_PATH,
      AZURE_AUTHORITY_HOST: world.webhook.authorityHost,
    };
    for (const [k, v] of Object.entries(injected)) {
      if (!(k in env)) {
        env[k] = v;
        injectedEnv.push(k);
      }
    }
  }

  // The port the service is told to listen on moves to a free local port.
  const portEnv: Record<number, string> = {};
  for (const p of c.ports ?? []) {
    const [carrier, ...more] = Object.keys(env).filter((k) => env[k] === String(p.containerPort));
    if (carrier !== undefined && more.length === 0) {
      portEnv[p.containerPort] = carrier;
      const local = localPorts[p.containerPort];
      if (local !== undefined) env[carrier] = String(local);
    }
  }
  for (const [k, v] of Object.entries(env)) env[k] = mapPaths(mapHosts(v, world), mounts);

  let argv = c.command
    ? [...c.command, ...(c.args ?? [])]
    : [...image.entrypoint, ...(c.args ?? image.cmd)];
  if (argv[0]?.endsWith('tini')) argv = argv.slice(argv.indexOf('--') + 1);
  if (argv[0] !== 'node')
    throw new Error(`${owner}: expected the container to run node, got ${argv.join(' ')}`);
  return {
    owner,
    sourceDir,
    cwd: toRepo(c.workingDir ?? image.workdir),
    args: argv.slice(1).map((a) => mapPaths(a, mounts)),
    env,
    manifestEnv,
    helperEnv: manifestEnv.filter((n) => referenced.has(n)),
    injectedEnv,
    portEnv,
    container: c,
    template,
  };
}
