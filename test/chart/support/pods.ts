// Pod-spec shapes the chart tests read (only the fields they look at).
import type { K8sObject } from './chart';

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string };
    configMapKeyRef?: { name: string; key: string };
    fieldRef?: { fieldPath: string };
  };
}

export interface Probe {
  httpGet?: { path: string; port: string | number; scheme?: string };
  exec?: { command: string[] };
  tcpSocket?: { port: string | number };
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number; hostPort?: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    privileged?: boolean;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
    seccompProfile?: { type: string };
  };
  volumeMounts?: { name: string; mountPath: string }[];
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  serviceAccountName?: string;
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    seccompProfile?: { type: string };
  };
  volumes?: {
    name: string;
    configMap?: { name: string };
    secret?: { secretName: string };
    projected?: unknown;
    emptyDir?: unknown;
  }[];
}

export interface PodTemplate {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: PodSpec;
}

/** Pod template of a workload (Deployment, StatefulSet, Job) or the spec of a bare Pod. */
export function podTemplateOf(o: K8sObject): PodTemplate | undefined {
  if (o.kind === 'Pod') return { metadata: o.metadata, spec: o.spec as unknown as PodSpec };
  const spec = o.spec as { template?: PodTemplate } | undefined;
  return spec?.template;
}

export function isWorkload(o: K8sObject): boolean {
  return ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'Pod'].includes(o.kind);
}

/** Resolves a probe's port (a number or a container port name). */
export function probePort(c: Container, p: Probe): number {
  const port = p.httpGet?.port ?? p.tcpSocket?.port;
  if (typeof port === 'number') return port;
  const named = c.ports?.find((x) => x.name === port);
  if (!named) throw new Error(`${c.name}: probe port ${String(port)} is not a container port`);
  return named.containerPort;
}

/** The first (application) container of a workload; throws when the object has none. */
export function containerOf(o: K8sObject): Container {
  const c = podTemplateOf(o)?.spec.containers[0];
  if (!c) throw new Error(`${o.kind}/${o.metadata.name} has no container`);
  return c;
}

/** The platform's four services, by their `app.kubernetes.io/name`. */
export const SERVICES = ['policy-api', 'portal', 'scim', 'token-broker'];

/** The application container's env of each service Deployment of a render (service -> env). */
export function serviceEnvs(objects: K8sObject[]): Map<string, EnvVar[]> {
  return new Map(
    objects
      .filter(
        (o) =>
          o.kind === 'Deployment' &&
          SERVICES.includes(o.metadata.labels?.['app.kubernetes.io/name'] ?? ''),
      )
      .map((d) => [d.metadata.labels?.['app.kubernetes.io/name'] ?? '', containerOf(d).env ?? []]),
  );
}
