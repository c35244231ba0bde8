// Policy rules over rendered objects; each returns the offending "<owner>/<container>: why" lines.
import type { K8sObject } from './chart';
import { isWorkload, podTemplateOf, type Container, type PodSpec } from './pods';

interface Placed {
  owner: string;
  kind: string;
  init: boolean;
  c: Container;
  podRunAsNonRoot?: boolean;
}

export function containersOf(objects: K8sObject[]): Placed[] {
  return objects.filter(isWorkload).flatMap((o) => {
    const t = podTemplateOf(o);
    if (!t) return [];
    const all = [
      ...(t.spec.initContainers ?? []).map((c) => ({ c, init: true })),
      ...t.spec.containers.map((c) => ({ c, init: false })),
    ];
    return all.map(({ c, init }) => ({
      owner: `${o.kind}/${o.metadata.name}`,
      kind: o.kind,
      init,
      c,
      podRunAsNonRoot: t.spec.securityContext?.runAsNonRoot,
    }));
  });
}

const at = (x: Placed, why: string) => `${x.owner}/${x.c.name}: ${why}`;

/** Long-running containers (not init containers, Jobs or test Pods) need liveness and readiness probes. */
export function missingProbes(objects: K8sObject[]): string[] {
  return containersOf(objects)
    .filter((x) => !x.init && x.kind !== 'Job' && x.kind !== 'Pod')
    .filter((x) => !x.c.livenessProbe || !x.c.readinessProbe)
    .map((x) => at(x, 'no liveness/readiness probe'));
}

export function missingResources(objects: K8sObject[]): string[] {
  return containersOf(objects)
    .filter(
      ({ c }) =>
        !c.resources?.limits?.cpu ||
        !c.resources?.limits?.memory ||
        !c.resources?.requests?.cpu ||
        !c.resources?.requests?.memory,
    )
    .map((x) => at(x, 'no cpu/memory requests and limits'));
}

export function insecureContainers(objects: K8sObject[]): string[] {
  return containersOf(objects).flatMap((x) => {
    const s = x.c.securityContext ?? {};
    const why: string[] = [];
    if (!(s.runAsNonRoot ?? x.podRunAsNonRoot)) why.push('may run as root');
    if (s.readOnlyRootFilesystem !== true) why.push('writable root filesystem');
    if (s.allowPrivilegeEscalation !== false) why.push('privilege escalation allowed');
    if (!(s.capabilities?.drop ?? []).includes('ALL') || (s.capabilities?.add ?? []).length)
      why.push('capabilities not dropped');
    if (s.seccompProfile?.type !== 'RuntimeDefault') why.push('no RuntimeDefault seccomp');
    return why.map((w) => at(x, w));
  });
}

const SECRETISH =
  /(PASSWORD|SECRET|TOKEN(?!_BROKER_CONFIG)|PRIVATE_KEY|API_KEY|CONNECTION_STRING|DATABASE_URL)/;

/** Rendered Secret objects, secret-looking env vars with inline values, and URLs with userinfo. */
export function inlineSecrets(objects: K8sObject[]): string[] {
  const secrets = objects
    .filter((o) => o.kind === 'Secret')
    .map((o) => `Secret/${o.metadata.name}: rendered by the chart`);
  const env = containersOf(objects).flatMap((x) =>
    (x.c.env ?? []).flatMap((e) => {
      if (e.value === undefined) return [];
      // A URL assembled from a Secret-backed variable ($(VAR)) carries no secret itself; *_FILE names a path.
      const assembled = /\$\([A-Z_]+\)/.test(e.value) || e.name.endsWith('_FILE');
      const out: string[] = [];
      if (SECRETISH.test(e.name) && !assembled) out.push(at(x, `${e.name} has an inline value`));
      if (/:\/\/[^/\s:@]+:[^/\s@$]+@/.test(e.value))
        out.push(at(x, `${e.name} has credentials in a URL`));
      return out;
    }),
  );
  return [...secrets, ...env];
}

/** Volume types Pod Security "restricted" admits. */
const RESTRICTED_VOLUMES = new Set([
  'name',
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

/**
 * The pod-level rules of Pod Security "restricted" (and baseline) the container checks above do
 * not cover: host namespaces, host ports, volume types, uid 0. A namespace labelled
 * pod-security.kubernetes.io/enforce=restricted (k8s/kind/create-secrets.sh, the AKS guide)
 * refuses pods that break them.
 */
export function restrictedViolations(objects: K8sObject[]): string[] {
  const pods = objects.filter(isWorkload).flatMap((o) => {
    const t = podTemplateOf(o);
    if (!t) return [];
    const spec = t.spec as PodSpec & Record<string, unknown>;
    const owner = `${o.kind}/${o.metadata.name}`;
    const out: string[] = [];
    for (const k of ['hostNetwork', 'hostPID', 'hostIPC'])
      if (spec[k] === true) out.push(`${owner}: ${k}`);
    if (spec.securityContext?.runAsUser === 0) out.push(`${owner}: runs as uid 0`);
    for (const v of spec.volumes ?? [])
      for (const type of Object.keys(v).filter((k) => !RESTRICTED_VOLUMES.has(k)))
        out.push(`${owner}: volume ${v.name} is ${type}`);
    return out;
  });
  const containers = containersOf(objects).flatMap((x) => [
    ...(x.c.ports ?? []).filter((p) => p.hostPort).map((p) => at(x, `hostPort ${p.hostPort}`)),
    ...(x.c.securityContext?.runAsUser === 0 ? [at(x, 'runs as uid 0')] : []),
    ...(x.c.securityContext?.privileged ? [at(x, 'privileged')] : []),
  ]);
  return [...pods, ...containers];
}

/**
 * Kubernetes API access the services never need: a pod or ServiceAccount that mounts the API
 * token, a projected service-account token without an audience of its own (the API server's
 * audience: usable against the cluster), and any RBAC object (the chart grants nothing).
 */
export function kubeApiAccess(objects: K8sObject[]): string[] {
  const out: string[] = [];
  for (const o of objects) {
    const owner = `${o.kind}/${o.metadata.name}`;
    if (['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'].includes(o.kind))
      out.push(`${owner}: RBAC object`);
    if (o.kind === 'ServiceAccount' && o.automountServiceAccountToken !== false)
      out.push(`${owner}: automountServiceAccountToken is not false`);
    if (!isWorkload(o)) continue;
    const spec = podTemplateOf(o)?.spec as
      (PodSpec & { automountServiceAccountToken?: boolean }) | undefined;
    if (!spec) continue;
    if (spec.automountServiceAccountToken !== false)
      out.push(`${owner}: automountServiceAccountToken is not false`);
    for (const v of spec.volumes ?? []) {
      const sources =
        (v.projected as { sources?: { serviceAccountToken?: { audience?: string } }[] })?.sources ??
        [];
      for (const s of sources)
        if (s.serviceAccountToken && !s.serviceAccountToken.audience)
          out.push(`${owner}: volume ${v.name} projects an API server token (no audience)`);
    }
  }
  return out;
}
