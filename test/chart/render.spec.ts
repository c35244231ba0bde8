// helm lint / helm template for the default, kind and AKS values; values.schema.json rejects
// typos; the GitOps renders in k8s/rendered are what the chart renders today.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { defaultSets, helm, kubeVersion, ofKind, renderSet, renderableChart, repoRoot, templateArgs, valueSets } from './support/chart';

describe('helm lint and helm template', () => {
  it.each(valueSets)('lints cleanly with the %s values', (set) => {
    const args = set === 'default' ? defaultSets.flatMap((s) => ['--set', s]) : ['-f', join(renderableChart(), `values-${set}.yaml`)];
    const r = helm(['lint', renderableChart(), '--strict', '--kube-version', kubeVersion, ...args]);
    expect(`${r.stdout}${r.stderr}`).toContain('0 chart(s) failed');
    expect(r.status).toBe(0);
  });

  it.each(valueSets)('renders the %s values into the four services', (set) => {
    const deployments = ofKind(renderSet(set).objects, 'Deployment').map((d) => d.metadata.labels?.['app.kubernetes.io/name']);
    expect(deployments).toEqual(expect.arrayContaining(['portal', 'policy-api', 'scim', 'token-broker']));
  });

  it('keeps the local Azure stand-ins off unless asked for', () => {
    const names = (set: 'default' | 'aks' | 'kind') => ofKind(renderSet(set).objects, 'Deployment').map((d) => d.metadata.name);
    expect(names('default')).not.toContain('identity-dev-azure');
    expect(names('aks')).not.toContain('identity-dev-azure');
    expect(names('kind')).toContain('identity-dev-azure');
  });

  it('says which value is missing when NATS or the vault is not configured', () => {
    const noNats = helm(templateArgs({ set: ['tokenBroker.keyVault.url=https://kv.vault.azure.net'] }));
    expect(noNats.status).not.toBe(0);
    expect(noNats.stderr).toContain('messaging.url is required');
    const noVault = helm(templateArgs({ set: ['messaging.url=nats://nats:4222'] }));
    expect(noVault.status).not.toBe(0);
    expect(noVault.stderr).toContain('tokenBroker.keyVault.url is required');
  });
});

describe('NOTES.txt', () => {
  // helm prints NOTES only on install; render it here through a scratch copy of the chart.
  function notes(valuesFile: string): string {
    const copy = join(mkdtempSync(join(tmpdir(), 'notes-')), 'chart');
    execFileSync('cp', ['-r', renderableChart(), copy]);
    execFileSync('cp', [join(copy, 'templates', 'NOTES.txt'), join(copy, 'notes.txt')]);
    writeFileSync(join(copy, 'templates', 'notes-check.yaml'), 'notes: {{ tpl (.Files.Get "notes.txt") . | toJson }}\n');
    const r = helm(['template', 'identity', copy, '-n', 'identity-platform', '--kube-version', kubeVersion, '-f', join(copy, valuesFile), '--show-only', 'templates/notes-check.yaml']);
    rmSync(dirname(copy), { recursive: true, force: true });
    if (r.status !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout.split('notes: ')[1]) as string;
  }

  it('gives the kind URLs, the helm test command and the stand-ins warning', () => {
    const text = notes('values-kind.yaml');
    expect(text).toContain('Portal      https://identity.localtest.me/');
    expect(text).toContain('Policy API  https://identity.localtest.me/api');
    expect(text).toContain('SCIM        https://identity.localtest.me/scim');
    expect(text).toContain('helm test identity -n identity-platform');
    expect(text).toContain('WARNING: devAzure.enabled is true');
  });

  it('gives the AKS federated credential subject and how to load NATS users into an external server', () => {
    const text = notes('values-aks.yaml');
    expect(text).toContain('system:serviceaccount:identity-platform:identity-token-broker');
    expect(text).toContain('identity-nats-auth');
    expect(text).not.toContain('WARNING');
  });
});

describe('values.schema.json', () => {
  it.each([
    ['a misspelled top-level block', 'ingres.enabled=false', 'ingres'],
    ['a misspelled service setting', 'portal.replicaCount=3', 'replicaCount'],
    ['a misspelled global default', 'global.resource.limits.cpu=1', 'resource'],
    ['a wrong type', 'portal.port=http', 'port'],
    ['an unknown ingress class field', 'ingress.class=nginx', 'class'],
  ])('rejects %s', (_what, set, mentioned) => {
    const r = helm(templateArgs({ set: [...defaultSets, set] }));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/schema/i);
    expect(r.stderr).toContain(mentioned);
  });

  it('refuses a service env entry that would shadow a variable the chart derives', () => {
    const r = helm(templateArgs({ set: [...defaultSets, 'policyApi.env.DATABASE_URL=postgresql://elsewhere/db'] }));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('policyApi.env/secretEnv sets DATABASE_URL');
  });

  it('accepts the values files the chart ships', () => {
    for (const set of valueSets) expect(renderSet(set).objects.length).toBeGreaterThan(10);
  });
});

describe('k8s/rendered (GitOps manifests)', () => {
  it.each(['kind', 'aks'])('k8s/rendered/%s.yaml matches a fresh render (run k8s/render.sh after chart changes)', (env) => {
    const out = mkdtempSync(join(tmpdir(), 'render-'));
    try {
      // Render into a scratch copy of k8s/ so the committed files are compared, not overwritten.
      execFileSync('cp', ['-r', join(repoRoot, 'k8s'), out]);
      execFileSync(join(out, 'k8s', 'render.sh'), { env: { ...process.env, RENDER_CHART: renderableChart() }, stdio: 'pipe' });
      const fresh = readFileSync(join(out, 'k8s', 'rendered', `${env}.yaml`), 'utf8');
      const committed = readFileSync(join(repoRoot, 'k8s', 'rendered', `${env}.yaml`), 'utf8');
      expect(committed).toBe(fresh);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
