// The files in k8s/ that Helm does not render: the kind cluster config and the scripts.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAndValidate, renderSet, repoRoot } from './support/chart';
import { podTemplateOf } from './support/pods';

const k8s = join(repoRoot, 'k8s');

describe('k8s/', () => {
  it('the kind cluster maps the host ports 80/443 to the node ingress-nginx runs on', () => {
    const [cluster] = parseAndValidate(readFileSync(join(k8s, 'kind', 'cluster.yaml'), 'utf8'), []).objects as unknown as {
      kind: string;
      nodes: { kubeadmConfigPatches?: string[]; extraPortMappings?: { containerPort: number; hostPort: number }[] }[];
    }[];
    expect(cluster.kind).toBe('Cluster');
    const node = cluster.nodes[0];
    expect(node.extraPortMappings?.map((m) => [m.containerPort, m.hostPort])).toEqual([[80, 80], [443, 443]]);
    expect(node.kubeadmConfigPatches?.join('\n')).toContain('ingress-ready=true');
  });

  it('every script is executable and parses', () => {
    const scripts = [...readdirSync(k8s).map((f) => join(k8s, f)), ...readdirSync(join(k8s, 'kind')).map((f) => join(k8s, 'kind', f))].filter((f) => f.endsWith('.sh'));
    expect(scripts.length).toBeGreaterThanOrEqual(5);
    for (const s of scripts) {
      expect(statSync(s).mode & 0o111).not.toBe(0);
      const r = spawnSync('bash', ['-n', s], { encoding: 'utf8' });
      expect(`${s}: ${r.stderr}`).toBe(`${s}: `);
    }
  });

  it('k8s/kind/create-secrets.sh creates every Secret key and ConfigMap the kind render uses', () => {
    const script = readFileSync(join(k8s, 'kind', 'create-secrets.sh'), 'utf8');
    const { objects } = renderSet('kind');
    const rendered = new Set(objects.filter((o) => o.kind === 'ConfigMap').map((o) => o.metadata.name));
    const needed = new Set<string>();
    for (const o of objects) {
      const t = podTemplateOf(o);
      for (const c of [...(t?.spec.initContainers ?? []), ...(t?.spec.containers ?? [])])
        for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef) needed.add(`secret ${e.valueFrom.secretKeyRef.name} ${e.valueFrom.secretKeyRef.key}`);
      for (const v of (t?.spec.volumes ?? []) as { secret?: { secretName: string }; configMap?: { name: string } }[]) {
        if (v.secret) needed.add(`secret ${v.secret.secretName}`);
        if (v.configMap && !rendered.has(v.configMap.name)) needed.add(`configmap ${v.configMap.name}`);
      }
      if (o.kind === 'Ingress') for (const tls of (o.spec as { tls?: { secretName: string }[] }).tls ?? []) needed.add(`secret ${tls.secretName}`);
    }
    expect(needed.size).toBeGreaterThan(5);
    const missing = [...needed].filter((n) => {
      const [kind, name, key] = n.split(' ');
      const creates = new RegExp(`create (secret generic|secret tls|configmap) ${name} `).test(script) && script.includes(`exists ${kind} ${name} `);
      return !creates || (key !== undefined && !script.includes(`--from-literal=${key}=`) && !script.includes(`--from-file=${key}=`));
    });
    expect(missing).toEqual([]);
  });
});
