// helm lint / helm template for the default, kind and AKS values; values.schema.json rejects
// typos; the GitOps renders in k8s/rendered are what the chart renders today.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  defaultSets,
  helm,
  type K8sObject,
  kubeVersion,
  ofKind,
  parseAndValidate,
  renderSet,
  renderableChart,
  repoRoot,
  templateArgs,
  valueSets,
} from './support/chart';
import { containerOf } from './support/pods';

describe('helm lint and helm template', () => {
  it.each(valueSets)('lints cleanly with the %s values', (set) => {
    const args =
      set === 'default'
        ? defaultSets.flatMap((s) => ['--set', s])
        : ['-f', join(renderableChart(), `values-${set}.yaml`)];
    const r = helm(['lint', renderableChart(), '--strict', '--kube-version', kubeVersion, ...args]);
    expect(`${r.stdout}${r.stderr}`).toContain('0 chart(s) failed');
    expect(r.status).toBe(0);
  });

  it.each(valueSets)('renders the %s values into the four services', (set) => {
    const deployments = ofKind(renderSet(set).objects, 'Deployment').map(
      (d) => d.metadata.labels?.['app.kubernetes.io/name'],
    );
    expect(deployments).toEqual(
      expect.arrayContaining(['portal', 'policy-api', 'scim', 'token-broker']),
    );
  });

  it('keeps the local Azure stand-ins off unless asked for', () => {
    const names = (set: 'default' | 'aks' | 'kind') =>
      ofKind(renderSet(set).objects, 'Deployment').map((d) => d.metadata.name);
    expect(names('default')).not.toContain('identity-dev-azure');
    expect(names('aks')).not.toContain('identity-dev-azure');
    expect(names('kind')).toContain('identity-dev-azure');
  });

  it('says which value is missing when NATS or the vault is not configured', () => {
    const noNats = helm(
      templateArgs({ set: ['tokenBroker.keyVault.url=https://kv.vault.azure.net'] }),
    );
    expect(noNats.status).not.toBe(0);
    expect(noNats.stderr).toContain('messaging.url is required');
    const noVault = helm(
      templateArgs({ set: defaultSets.filter((s) => !s.startsWith('tokenBroker.keyVault.url=')) }),
    );
    expect(noVault.status).not.toBe(0);
    expect(noVault.stderr).toContain('tokenBroker.keyVault.url is required');
  });

  it('refuses a token broker without a workload identity client id (it could never reach Key Vault), in both modes', () => {
    const sets = defaultSets.filter((s) => !s.startsWith('tokenBroker.workloadIdentity.clientId='));
    for (const mode of ['webhook', 'projected']) {
      const r = helm(
        templateArgs({
          set: [
            ...sets,
            `tokenBroker.workloadIdentity.mode=${mode}`,
            'tokenBroker.workloadIdentity.tenantId=t',
          ],
        }),
      );
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('tokenBroker.workloadIdentity.clientId is required');
    }
    // Without the broker nothing needs the identity.
    const off = helm(templateArgs({ set: [...sets, 'tokenBroker.enabled=false'] }));
    expect(off.stderr).toBe('');
    expect(off.status).toBe(0);
  });

  it.each(['LoadBalancer', 'NodePort'])(
    'refuses tokenBroker.service.type=%s: the broker is reached over NATS only',
    (type) => {
      const r = helm(templateArgs({ set: [...defaultSets, `tokenBroker.service.type=${type}`] }));
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/tokenBroker|schema/);
      expect(r.stderr).toContain('ClusterIP');
    },
  );
});

// The official nats chart cannot be fetched here, so CI renders this chart's side of
// nats.enabled=true (the subchart stripped, k8s/offline-chart.sh): the URL, the auth ConfigMap,
// the NetworkPolicies for the chart's pods, and the render-time checks that its `nats:` block
// agrees with what this chart generates. (Checked once by hand against a copy of the nats 1.x
// chart: the server config includes ./auth/auth.conf and `nats-server -t` accepts it.)
describe('the official NATS chart path (nats.enabled=true)', () => {
  const natsSets = ['nats.enabled=true', 'natsServer.enabled=false'];
  const render = (valuesFile: string, set: string[] = [], releaseName = 'identity') => {
    const args = templateArgs({ valuesFiles: [valuesFile], set: [...natsSets, ...set] });
    args[1] = releaseName;
    return helm(args);
  };

  it.each(['values-aks.yaml', 'values-kind.yaml'])(
    "%s: services reach the chart's nats Service, whose pods admit them (and nothing else of the release)",
    (file) => {
      const r = render(file);
      expect(r.stderr).toBe('');
      const objects = parseAndValidate(r.stdout, []).objects;
      const deployments = ofKind(objects, 'Deployment');
      const urls = new Set(
        deployments.flatMap((d) =>
          (containerOf(d).env ?? []).filter((e) => e.name === 'NATS_URL').map((e) => e.value),
        ),
      );
      expect([...urls]).toEqual(['nats://identity-nats:4222']);
      // The portal publishes and subscribes to nothing: no NATS variable at all.
      const portalEnv = containerOf(
        deployments.find((d) => d.metadata.name === 'identity-portal')!,
      ).env!.map((e) => e.name);
      expect(portalEnv.filter((n) => n.startsWith('NATS_'))).toEqual([]);
      expect(
        objects.some((o) => o.kind === 'ConfigMap' && o.metadata.name === 'identity-nats-auth'),
      ).toBe(true);
      expect(
        objects.some((o) => o.kind === 'StatefulSet' && o.metadata.name === 'identity-nats'),
      ).toBe(false); // the in-chart server is off
      const policy = ofKind(objects, 'NetworkPolicy').find(
        (p) => p.metadata.name === 'identity-nats',
      )!;
      const spec = policy.spec as {
        podSelector: { matchLabels: Record<string, string> };
        ingress: {
          from: { podSelector?: { matchLabels: Record<string, string> } }[];
          ports: { port: number }[];
        }[];
      };
      // Only the nats chart's server pods (not its nats-box), and from the services on the client port.
      expect(spec.podSelector.matchLabels).toEqual({
        'app.kubernetes.io/name': 'nats',
        'app.kubernetes.io/instance': 'identity',
        'app.kubernetes.io/component': 'nats',
      });
      expect(spec.ingress[0]?.ports).toEqual([{ port: 4222, protocol: 'TCP' }]);
      expect(
        (spec.ingress[0]?.from ?? [])
          .map((f) => f.podSelector?.matchLabels['app.kubernetes.io/name'])
          .sort(),
      ).toEqual(['policy-api', 'scim', 'token-broker']);
      // Each service's egress to NATS selects the same pods; the portal, which uses no NATS, has none.
      const np = (name: string) =>
        JSON.stringify(
          ofKind(objects, 'NetworkPolicy').find((p) => p.metadata.name === `identity-${name}`)!
            .spec,
        );
      for (const name of ['policy-api', 'scim', 'token-broker'])
        expect(np(name)).toContain(JSON.stringify(spec.podSelector.matchLabels));
      expect(np('portal')).not.toContain(JSON.stringify(spec.podSelector.matchLabels));
    },
  );

  it('follows the nats chart\'s naming: a release whose name contains "nats" keeps it as the Service name', () => {
    const r = render('values-aks.yaml', [], 'nats-idp');
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('value: "nats://nats-idp:4222"');
  });

  it('refuses a nats block that would leave a user without its password or the server without auth.conf', () => {
    const noPassword = render('values-aks.yaml', [
      'nats.container.env.NATS_PASSWORD_POLICY_READER=null',
    ]);
    expect(noPassword.status).not.toBe(0);
    expect(noPassword.stderr).toContain(
      'NATS_PASSWORD_POLICY_READER: {valueFrom: {secretKeyRef: {name: identity-platform-nats, key: policy-reader}}}',
    );
    const renamed = render('values-aks.yaml', ['fullnameOverride=idp']);
    expect(renamed.status).not.toBe(0);
    expect(renamed.stderr).toContain('must add a volume from ConfigMap idp-nats-auth');
  });
});

describe('NOTES.txt', () => {
  // helm prints NOTES only on install; render it here through a scratch copy of the chart.
  function notes(valuesFile: string): string {
    const copy = join(mkdtempSync(join(tmpdir(), 'notes-')), 'chart');
    execFileSync('cp', ['-r', renderableChart(), copy]);
    execFileSync('cp', [join(copy, 'templates', 'NOTES.txt'), join(copy, 'notes.txt')]);
    writeFileSync(
      join(copy, 'templates', 'notes-check.yaml'),
      'notes: {{ tpl (.Files.Get "notes.txt") . | toJson }}\n',
    );
    const r = helm([
      'template',
      'identity',
      copy,
      '-n',
      'identity-platform',
      '--kube-version',
      kubeVersion,
      '-f',
      join(copy, valuesFile),
      '--show-only',
      'templates/notes-check.yaml',
    ]);
    rmSync(dirname(copy), { recursive: true, force: true });
    if (r.status !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout.split('notes: ')[1] ?? '') as string;
  }

  it('gives the kind URLs, the helm test command and the stand-ins warning', () => {
    const text = notes('values-kind.yaml');
    expect(text).toContain('Portal      https://identity.localtest.me/');
    expect(text).toContain('Policy API  https://identity.localtest.me/api');
    expect(text).toContain('SCIM        https://identity.localtest.me/scim');
    expect(text).toContain('SCIM host   https://scim.identity.localtest.me/<directoryId>/scim/v2');
    expect(text).toContain('Sign-in     https://login.identity.localtest.me ');
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
    // Names and subjects Kubernetes or nats-server would refuse only at apply or boot time.
    ['a name prefix with uppercase and dots', 'fullnameOverride=My.Release', '/fullnameOverride'],
    ['a name prefix starting with a dash', 'fullnameOverride=-idp', '/fullnameOverride'],
    [
      'an ingress host with uppercase letters',
      'ingress.host=Identity.Example.com',
      '/ingress/host',
    ],
    ['a wildcard ingress host', 'ingress.host=*.example.com', '/ingress/host'],
    [
      'a wildcard token request subject',
      'messaging.tokenRequestSubject=tokens.>',
      '/messaging/tokenRequestSubject',
    ],
    ['an empty token request subject', 'messaging.tokenRequestSubject=', 'tokenRequestSubject'],
    ['a disruption budget over 100%', 'global.pdb.minAvailable=150%', '/global/pdb/minAvailable'],
    ['a negative disruption budget', 'scim.pdb.maxUnavailable=-1', '/scim/pdb/maxUnavailable'],
    ['an empty PostgreSQL Secret name', 'postgresql.existingSecret=', '/postgresql/existingSecret'],
    [
      'a Secret name Kubernetes refuses',
      'messaging.existingSecret=NATS_Users',
      '/messaging/existingSecret',
    ],
    [
      'an uppercase TLS Secret name',
      'ingress.tls.secretName=Identity-TLS',
      '/ingress/tls/secretName',
    ],
    [
      'a Secret name with an underscore in secretEnv',
      'portal.secretEnv.B2C_CLIENT_SECRET.secretName=portal_secrets',
      '/portal/secretEnv/B2C_CLIENT_SECRET/secretName',
    ],
    [
      'a ServiceAccount name with uppercase',
      'tokenBroker.serviceAccount.name=Broker',
      '/tokenBroker/serviceAccount/name',
    ],
    [
      'a CA bundle ConfigMap name with uppercase',
      'global.caBundle.configMap=DevCA',
      '/global/caBundle/configMap',
    ],
    ['a stand-in name with a dot', 'devAzure.name=dev.azure', '/devAzure/name'],
    [
      'an empty external database Secret name',
      'postgresql.external.existingSecret=',
      '/postgresql/external/existingSecret',
    ],
  ])('rejects %s', (_what, set, mentioned) => {
    const r = helm(templateArgs({ set: [...defaultSets, set] }));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/schema/i);
    expect(r.stderr).toContain(mentioned);
  });

  // Pod Security Standards "restricted" (and CIS 5.2.x): an override can tighten the security
  // contexts, never loosen them; the rendered policy checks (policy.spec.ts) only see the shipped values.
  it.each([
    [
      'a privileged container',
      'portal.containerSecurityContext.privileged=true',
      '/portal/containerSecurityContext/privileged',
    ],
    [
      'a writable root filesystem',
      'scim.containerSecurityContext.readOnlyRootFilesystem=false',
      '/scim/containerSecurityContext/readOnlyRootFilesystem',
    ],
    [
      'privilege escalation',
      'tokenBroker.containerSecurityContext.allowPrivilegeEscalation=true',
      '/tokenBroker/containerSecurityContext/allowPrivilegeEscalation',
    ],
    [
      'an added capability',
      'policyApi.containerSecurityContext.capabilities.add[0]=NET_ADMIN',
      '/policyApi/containerSecurityContext',
    ],
    [
      'capabilities kept',
      'portal.containerSecurityContext.capabilities.drop[0]=NET_RAW',
      '/portal/containerSecurityContext',
    ],
    [
      'running as root (container)',
      'portal.containerSecurityContext.runAsUser=0',
      '/portal/containerSecurityContext/runAsUser',
    ],
    [
      'running as root (pod)',
      'tokenBroker.podSecurityContext.runAsUser=0',
      '/tokenBroker/podSecurityContext/runAsUser',
    ],
    [
      'runAsNonRoot off',
      'global.podSecurityContext.runAsNonRoot=false',
      '/global/podSecurityContext',
    ],
    [
      'an unconfined seccomp profile',
      'global.containerSecurityContext.seccompProfile.type=Unconfined',
      '/global/containerSecurityContext',
    ],
    [
      'a host setting in the pod context',
      'scim.podSecurityContext.sysctls[0].name=net.ipv4.ip_forward',
      'sysctls',
    ],
    [
      'a global hardening key removed',
      'global.containerSecurityContext.readOnlyRootFilesystem=null',
      'readOnlyRootFilesystem',
    ],
    ['the moving latest tag (services)', 'global.image.tag=latest', '/global/image/tag'],
    ['the moving latest tag (one service)', 'scim.image.tag=latest', '/scim/image/tag'],
    ['the moving latest tag (PostgreSQL)', 'postgresql.image.tag=latest', '/postgresql/image/tag'],
    ['an empty third-party tag', 'tests.image.tag=', '/tests/image/tag'],
    [
      'a malformed database CIDR',
      'postgresql.external.cidr=10.20.0.0',
      '/postgresql/external/cidr',
    ],
    [
      'a malformed egress CIDR',
      'networkPolicy.azureEgress.cidr=0.0.0.0/33',
      '/networkPolicy/azureEgress/cidr',
    ],
    [
      'a host name as an egress exception',
      'networkPolicy.identityEgress.except[0]=vault.azure.net',
      '/networkPolicy/identityEgress/except/0',
    ],
  ])('rejects %s', (_what, set, mentioned) => {
    const r = helm(templateArgs({ set: [...defaultSets, set] }));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/schema/i);
    expect(r.stderr).toContain(mentioned);
  });

  it('accepts overrides that keep the restricted profile (another uid, a Localhost seccomp profile, a pinned tag)', () => {
    const r = helm(
      templateArgs({
        set: [
          ...defaultSets,
          'portal.podSecurityContext.runAsUser=2000',
          'portal.containerSecurityContext.runAsUser=2000',
          'scim.containerSecurityContext.seccompProfile.type=Localhost',
          'scim.containerSecurityContext.seccompProfile.localhostProfile=profiles/node.json',
          'global.image.tag=1.4.2',
          'postgresql.external.cidr=fd00:10:20::/64',
        ],
      }),
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('refuses a service env entry that would shadow a variable the chart derives', () => {
    const r = helm(
      templateArgs({
        set: [...defaultSets, 'policyApi.env.DATABASE_URL=postgresql://elsewhere/db'],
      }),
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('policyApi.env/secretEnv sets DATABASE_URL');
  });

  it('refuses a disruption budget that would never let a pod be evicted (node drains would hang)', () => {
    const pdb = (extra: string[]) =>
      helm(templateArgs({ valuesFiles: ['values-aks.yaml'], set: [...extra] }));
    for (const [set, message] of [
      [
        ['global.pdb.minAvailable=2'],
        'portal.pdb.minAvailable (2) must be below the replica count (2)',
      ],
      [['global.pdb.minAvailable=100%'], 'portal.pdb.minAvailable (100%) must be below'],
      [['scim.pdb.maxUnavailable=0'], 'scim.pdb.maxUnavailable must be above 0'],
      [
        [
          'global.autoscaling.enabled=true',
          'global.autoscaling.minReplicas=2',
          'global.pdb.minAvailable=2',
        ],
        'must be below the replica count (2)',
      ],
    ] as const) {
      const r = pdb([...set]);
      expect({ set, failed: r.status !== 0 }).toEqual({ set, failed: true });
      expect(r.stderr).toContain(message);
    }
    for (const ok of [['global.pdb.minAvailable=1'], ['global.pdb.minAvailable=50%']]) {
      const r = pdb(ok);
      expect({ ok, stderr: r.stderr, status: r.status }).toEqual({ ok, stderr: '', status: 0 });
    }
  });

  // What the schema cannot express (one value against another): a render error naming the values,
  // not a manifest the API server, the ingress controller or a service refuses later.
  it.each([
    [
      'both NATS servers',
      ['natsServer.enabled=true', 'nats.enabled=true'],
      'natsServer.enabled and nats.enabled are both true',
    ],
    [
      'an extra NATS user named like a service',
      ['messaging.extraUsers[0].name=scim'],
      'messaging.extraUsers: the NATS user "scim" is already defined',
    ],
    [
      'the same extra NATS user twice',
      ['messaging.extraUsers[0].name=daemon', 'messaging.extraUsers[1].name=daemon'],
      'messaging.extraUsers: the NATS user "daemon" is already defined',
    ],
    [
      'a token broker without a registration (it refuses to start)',
      ['tokenBroker.registrations=null'],
      'tokenBroker.registrations is empty',
    ],
    [
      'a registration listed twice',
      [
        'tokenBroker.registrations[1].name=partner-api',
        'tokenBroker.registrations[1].tenantId=00000000-0000-0000-0000-000000000000',
        'tokenBroker.registrations[1].clientId=11111111-1111-1111-1111-111111111111',
        'tokenBroker.registrations[1].certificateName=partner-api-2',
      ],
      'tokenBroker.registrations: "partner-api" is listed twice',
    ],
    [
      'a caller granted a registration that does not exist',
      [
        'tokenBroker.callers.policy-api[0].registration=partner',
        'tokenBroker.callers.policy-api[0].scopes[0]=api://partner/.default',
      ],
      'tokenBroker.callers.policy-api names registration "partner", which tokenBroker.registrations does not have (partner-api)',
    ],
    [
      'the portal without the policy API it calls',
      ['policyApi.enabled=false'],
      'portal.enabled needs policyApi.enabled',
    ],
    [
      'TLS without its Secret',
      ['ingress.tls.secretName='],
      'ingress.tls.secretName is empty while ingress.tls.enabled=true',
    ],
    [
      'two services on one ingress path',
      ['ingress.paths.policyApi=/'],
      'ingress.paths.policyApi and ingress.paths.portal are both "/"',
    ],
    [
      'two services on one ingress path, spelt differently',
      ['ingress.paths.scim=/api/'],
      'ingress.paths.policyApi and ingress.paths.scim are both "/api"',
    ],
    [
      'the SCIM host being the main host',
      ['ingress.scimHost=identity.example.com', 'ingress.host=identity.example.com'],
      'ingress.scimHost is ingress.host (identity.example.com)',
    ],
    [
      'an autoscaler whose minimum is above its maximum',
      [
        'global.autoscaling.enabled=true',
        'scim.autoscaling.minReplicas=5',
        'scim.autoscaling.maxReplicas=3',
        'scim.autoscaling.enabled=true',
      ],
      'scim.autoscaling: minReplicas (5) is above maxReplicas (3)',
    ],
    [
      'an external database without the Secret key of a service',
      ['policyApi.database.secretKey='],
      'policyApi.database.secretKey is empty',
    ],
    [
      'the in-chart database without a database name',
      ['postgresql.enabled=true', 'scim.database.name='],
      'scim.database.name is empty',
    ],
  ])('refuses %s, naming the values', (_what, set, message) => {
    const r = helm(templateArgs({ set: [...defaultSets, ...set] }));
    expect({ status: r.status, stderr: r.stderr }).toEqual({
      status: 1,
      stderr: expect.stringContaining(message),
    });
  });

  it('renders annotations and labels given as numbers or booleans as the strings Kubernetes requires', () => {
    const yaml = helm(
      templateArgs({
        set: [
          ...defaultSets,
          'ingress.annotations.nginx\\.ingress\\.kubernetes\\.io/ssl-redirect=true',
          'ingress.annotations.example\\.com/weight=5',
          'portal.service.annotations.example\\.com/port=8080',
          'global.podAnnotations.example\\.com/scrape=false',
          'scim.podLabels.tier=1',
          'tokenBroker.serviceAccount.annotations.example\\.com/n=2',
        ],
      }),
    );
    expect(yaml.stderr).toBe('');
    const { objects, errors } = parseAndValidate(yaml.stdout);
    expect(errors).toEqual([]);
    const notString: string[] = [];
    const check = (where: string, map: unknown) => {
      for (const [k, v] of Object.entries((map ?? {}) as Record<string, unknown>))
        if (typeof v !== 'string') notString.push(`${where} ${k}=${String(v)}`);
    };
    for (const o of objects) {
      check(`${o.kind}/${o.metadata.name} annotations`, o.metadata.annotations);
      check(`${o.kind}/${o.metadata.name} labels`, o.metadata.labels);
      const tpl = (o.spec as { template?: { metadata?: K8sObject['metadata'] } } | undefined)
        ?.template?.metadata;
      check(`${o.kind}/${o.metadata.name} pod annotations`, tpl?.annotations);
      check(`${o.kind}/${o.metadata.name} pod labels`, tpl?.labels);
    }
    expect(notString).toEqual([]);
    const ingress = ofKind(objects, 'Ingress')[0]!;
    expect(ingress.metadata.annotations).toMatchObject({
      'nginx.ingress.kubernetes.io/ssl-redirect': 'true',
      'example.com/weight': '5',
    });
    const scim = ofKind(objects, 'Deployment').find((d) => d.metadata.name === 'identity-scim')!;
    expect(
      (scim.spec as { template: { metadata: { labels: Record<string, string> } } }).template
        .metadata.labels.tier,
    ).toBe('1');
  });

  it('accepts the values files the chart ships', () => {
    for (const set of valueSets) expect(renderSet(set).objects.length).toBeGreaterThan(10);
  });
});

describe('k8s/rendered (GitOps manifests)', () => {
  it.each(['kind', 'aks'])(
    'k8s/rendered/%s.yaml matches a fresh render (run k8s/render.sh after chart changes)',
    (env) => {
      const out = mkdtempSync(join(tmpdir(), 'render-'));
      try {
        // Render into a scratch copy of k8s/ so the committed files are compared, not overwritten.
        execFileSync('cp', ['-r', join(repoRoot, 'k8s'), out]);
        execFileSync(join(out, 'k8s', 'render.sh'), {
          env: { ...process.env, RENDER_CHART: renderableChart() },
          stdio: 'pipe',
        });
        const fresh = readFileSync(join(out, 'k8s', 'rendered', `${env}.yaml`), 'utf8');
        const committed = readFileSync(join(repoRoot, 'k8s', 'rendered', `${env}.yaml`), 'utf8');
        expect(committed).toBe(fresh);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    },
  );
});
