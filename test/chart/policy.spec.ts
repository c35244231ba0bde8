// Policy checks on the rendered output for every value set: hardened, probed, limited
// containers; no secret material inline; the token broker unreachable from outside.
import {
  ofKind,
  parseAndValidate,
  renderSet,
  renderYaml,
  valueSets,
  defaultSets,
  type K8sObject,
} from './support/chart';
import { containerOf, podTemplateOf } from './support/pods';
import {
  inlineSecrets,
  insecureContainers,
  kubeApiAccess,
  missingProbes,
  missingResources,
  restrictedViolations,
} from './support/policies';

const TOKEN_BROKER = 'token-broker';

describe.each(valueSets)('policy on the %s render', (set) => {
  const objects = () => renderSet(set).objects;

  it('long-running containers have liveness and readiness probes', () => {
    expect(missingProbes(objects())).toEqual([]);
  });

  it('every container has CPU and memory limits and requests', () => {
    expect(missingResources(objects())).toEqual([]);
  });

  it('every container runs non-root on a read-only root filesystem, no privilege escalation, ALL capabilities dropped, RuntimeDefault seccomp', () => {
    expect(insecureContainers(objects())).toEqual([]);
  });

  it('every pod meets Pod Security "restricted" at pod level: no host namespaces or ports, admitted volume types only, no uid 0', () => {
    expect(restrictedViolations(objects())).toEqual([]);
  });

  it('gives no pod the Kubernetes API: no mounted API token, no RBAC, projected tokens only for their own audience', () => {
    expect(kubeApiAccess(objects())).toEqual([]);
  });

  it('renders no Secret objects and no inline secret values: credentials come from existing Secrets', () => {
    expect(inlineSecrets(objects())).toEqual([]);
  });

  it('no container sets the same variable twice', () => {
    const dupes = ofKind(objects(), 'Deployment').flatMap((d) => {
      const names = (containerOf(d).env ?? []).map((e) => e.name);
      return names.filter((n, i) => names.indexOf(n) !== i).map((n) => `${d.metadata.name}: ${n}`);
    });
    expect(dupes).toEqual([]);
  });

  it('the token broker has only a ClusterIP Service and no Ingress rule', () => {
    const brokerSelected = (s: K8sObject) =>
      (s.spec as { selector?: Record<string, string> }).selector?.['app.kubernetes.io/name'] ===
      TOKEN_BROKER;
    const services = ofKind(objects(), 'Service').filter(brokerSelected);
    expect(services).toHaveLength(1);
    expect((services[0]!.spec as { type?: string }).type ?? 'ClusterIP').toBe('ClusterIP');
    const brokerServiceNames = new Set(services.map((s) => s.metadata.name));
    type Rule = { http?: { paths: { path: string; backend: { service?: { name: string } } }[] } };
    const backends = ofKind(objects(), 'Ingress').flatMap((i) =>
      ((i.spec as { rules?: Rule[]; defaultBackend?: { service?: { name: string } } }).rules ?? [])
        .flatMap((r) => r.http?.paths ?? [])
        .map((p) => p.backend.service?.name),
    );
    expect(backends.length).toBeGreaterThan(0);
    expect(backends.filter((b) => b && brokerServiceNames.has(b))).toEqual([]);
  });

  it('the ingress sends / to the portal, /api to the policy API (told its base path) and /scim to SCIM', () => {
    type Path = {
      path: string;
      pathType: string;
      backend: { service: { name: string; port: { name: string } } };
    };
    type Spec = { rules: { host: string; http: { paths: Path[] } }[]; tls: { hosts: string[] }[] };
    const ingresses = ofKind(objects(), 'Ingress');
    // The platform's Ingress, plus the stand-ins' own only where they are installed.
    expect(ingresses.map((i) => i.metadata.name).sort()).toEqual(
      set === 'kind' ? ['identity', 'identity-dev-azure'] : ['identity'],
    );
    const main = ingresses.find((i) => i.metadata.name === 'identity')!.spec as Spec;
    const route = (paths: Path[]) =>
      Object.fromEntries(paths.map((p) => [p.path, p.backend.service.name]));
    expect(route(main.rules[0]?.http.paths ?? [])).toEqual({
      '/': 'identity-portal',
      '/api': 'identity-policy-api',
      '/scim': 'identity-scim',
    });
    // No rewriting: the API serves under the same prefix, and the portal calls it there.
    const env = (name: string) =>
      containerOf(
        ofKind(objects(), 'Deployment').find((d) => d.metadata.name === `identity-${name}`)!,
      ).env ?? [];
    expect(env('policy-api').find((e) => e.name === 'API_BASE_PATH')?.value).toBe('/api');
    // ingress-nginx's own 1m body limit would answer a large SCIM write with its HTML 413 before
    // SCIM's limit (16 MiB unless SCIM_BODY_LIMIT_BYTES says otherwise) and error shape apply.
    const bodySize = ingresses.find((i) => i.metadata.name === 'identity')!.metadata.annotations?.[
      'nginx.ingress.kubernetes.io/proxy-body-size'
    ];
    const mib = /^(\d+)m$/.exec(bodySize ?? '');
    const scimLimit = Number(
      env('scim').find((e) => e.name === 'SCIM_BODY_LIMIT_BYTES')?.value ?? 16 * 1024 * 1024,
    );
    expect({ bodySize, enough: !!mib && Number(mib[1]) * 1024 * 1024 >= scimLimit }).toEqual({
      bodySize,
      enough: true,
    });
    expect(env('portal').find((e) => e.name === 'POLICY_API_URL')?.value).toBe(
      'http://identity-policy-api:80/api',
    );
    // SCIM's own host (kind, AKS) takes every path (per-directory endpoints, /admin), under the same TLS.
    const scimHost = {
      kind: 'scim.identity.localtest.me',
      aks: 'scim.contoso.example',
      default: undefined,
    }[set];
    if (scimHost) {
      expect(main.rules[1]?.host).toBe(scimHost);
      expect(route(main.rules[1]?.http.paths ?? [])).toEqual({ '/': 'identity-scim' });
      expect(main.tls[0]?.hosts).toEqual([main.rules[0]?.host, scimHost]);
    } else {
      expect(main.rules).toHaveLength(1);
    }
  });

  if (set === 'kind') {
    it('kind: browsers and pods reach the identity stand-in at one ingress host that every issuer and identity URL names', () => {
      const devAzureIngress = ofKind(objects(), 'Ingress').find(
        (i) => i.metadata.name === 'identity-dev-azure',
      )!;
      const spec = devAzureIngress.spec as {
        rules: {
          host: string;
          http: {
            paths: {
              path: string;
              backend: { service: { name: string; port: { name: string } } };
            }[];
          };
        }[];
      };
      const host = String(spec.rules[0]?.host);
      expect(host).toBe('login.identity.localtest.me');
      // The identity port only (not the vault), spoken to over HTTPS by the controller.
      expect(spec.rules[0]?.http.paths).toEqual([
        {
          path: '/',
          pathType: 'Prefix',
          backend: { service: { name: 'identity-dev-azure', port: { name: 'identity' } } },
        },
      ]);
      expect(
        devAzureIngress.metadata.annotations?.['nginx.ingress.kubernetes.io/backend-protocol'],
      ).toBe('HTTPS');
      // In the cluster the CoreDNS rewrite sends the name to the Service, which answers on 443 too.
      const svc = ofKind(objects(), 'Service').find(
        (s) => s.metadata.name === 'identity-dev-azure',
      )!;
      expect((svc.spec as { ports: { port: number; targetPort: string }[] }).ports).toContainEqual(
        expect.objectContaining({ port: 443, targetPort: 'identity' }),
      );
      const envOf = (d: K8sObject) => containerOf(d).env ?? [];
      const deployments = ofKind(objects(), 'Deployment');
      const devAzure = deployments.find((d) => d.metadata.name === 'identity-dev-azure')!;
      expect(envOf(devAzure).find((e) => e.name === 'DEV_AZURE_PUBLIC_URL')?.value).toBe(
        `https://${host}`,
      );
      // Every identity URL a service is given names that origin (else issuers would not match);
      // only the vault is addressed by its Service name.
      const urls = deployments
        .filter((d) => d !== devAzure)
        .flatMap((d) =>
          envOf(d).flatMap((e) =>
            (e.value ?? '')
              .split(',')
              .filter((v) => v.includes('dev-azure') || v.includes(host))
              .map((v) => `${d.metadata.name} ${e.name}=${v}`),
          ),
        );
      expect(urls.length).toBeGreaterThanOrEqual(6);
      expect(
        urls.filter(
          (u) =>
            !u.includes(`=https://${host}`) &&
            !u.includes('KEY_VAULT_URL=https://identity-dev-azure:9444'),
        ),
      ).toEqual([]);
    });
  }

  it('starts from default deny and lets the token broker out only to DNS, NATS and Azure (443)', () => {
    const policies = ofKind(objects(), 'NetworkPolicy');
    const deny = policies.find((p) => p.metadata.name.endsWith('default-deny'));
    expect(deny?.spec).toMatchObject({
      policyTypes: ['Ingress', 'Egress'],
      podSelector: { matchLabels: { 'app.kubernetes.io/instance': 'identity' } },
    });
    expect(deny?.spec).not.toHaveProperty('ingress');
    expect(deny?.spec).not.toHaveProperty('egress');
    const broker = policies.find((p) => p.metadata.name === 'identity-token-broker');
    type Peer = { ipBlock?: { cidr: string }; podSelector?: unknown; namespaceSelector?: unknown };
    type Rule = { to?: Peer[]; from?: Peer[]; ports?: { port: number | string }[] };
    const spec = broker?.spec as { ingress: Rule[]; egress: Rule[] };
    const egressPorts = spec.egress.flatMap((r) => (r.ports ?? []).map((p) => p.port)).sort();
    const allowed = set === 'kind' ? [443, 4222, 53, 53, 9443, 9444] : [443, 4222, 53, 53];
    expect(egressPorts).toEqual(allowed.sort());
    // No ingress from the ingress controller: only the helm test pod may call it.
    expect(JSON.stringify(spec.ingress)).not.toContain('ingress-nginx');
    expect(JSON.stringify(spec.ingress)).not.toContain('app-routing-system');
  });

  it('lets the portal call the policy API and nothing else call across services over HTTP', () => {
    type Peer = { podSelector?: { matchLabels?: Record<string, string> } };
    type Rule = { to?: Peer[]; from?: Peer[] };
    const np = (name: string) =>
      ofKind(objects(), 'NetworkPolicy').find((p) => p.metadata.name === `identity-${name}`)!
        .spec as { ingress: Rule[]; egress: Rule[] };
    const names = (rules: Rule[], side: 'to' | 'from') =>
      rules
        .flatMap((r) => r[side] ?? [])
        .map((p) => p.podSelector?.matchLabels?.['app.kubernetes.io/name'])
        .filter(
          (n): n is string => !!n && ['portal', 'policy-api', 'scim', 'token-broker'].includes(n),
        );
    expect(names(np('portal').egress, 'to')).toEqual(['policy-api']);
    expect(names(np('policy-api').ingress, 'from')).toEqual(['portal']);
    for (const s of ['scim', 'token-broker']) {
      expect(names(np(s).egress, 'to')).toEqual([]);
      expect(names(np(s).ingress, 'from')).toEqual([]);
    }
  });

  it('the token broker runs with workload identity when an identity is configured', () => {
    const broker = ofKind(objects(), 'Deployment').find(
      (d) => d.metadata.name === 'identity-token-broker',
    );
    const sa = ofKind(objects(), 'ServiceAccount').find(
      (s) => s.metadata.name === 'identity-token-broker',
    );
    const labels = podTemplateOf(broker!)!.metadata.labels ?? {};
    // The chart refuses to render a broker without an identity; aks and the default set use the
    // AKS webhook, kind projects the service-account token itself (no webhook label).
    if (set === 'kind') {
      expect(labels['azure.workload.identity/use']).toBeUndefined();
    } else {
      expect(labels['azure.workload.identity/use']).toBe('true');
      const clientId =
        set === 'aks'
          ? '<token-broker-identity-client-id>'
          : defaultSets
              .find((v) => v.startsWith('tokenBroker.workloadIdentity.clientId='))!
              .split('=')[1];
      expect(sa?.metadata.annotations?.['azure.workload.identity/client-id']).toBe(clientId);
    }
  });

  it('the helm test hook asks every service for /readyz through its Service', () => {
    const pods = ofKind(objects(), 'Pod').filter(
      (p) => p.metadata.annotations?.['helm.sh/hook'] === 'test',
    );
    expect(pods.length).toBeGreaterThan(0);
    const script = (containerOf(pods[0]!).command ?? []).join(' ');
    const services = ofKind(objects(), 'Service').filter((s) =>
      ['portal', 'policy-api', 'scim', 'token-broker'].includes(
        (s.spec as { selector: Record<string, string> }).selector['app.kubernetes.io/name'] ?? '',
      ),
    );
    expect(services).toHaveLength(4);
    for (const svc of services) {
      const port = (svc.spec as { ports: { port: number; targetPort: string }[] }).ports[0];
      expect(port?.targetPort).toBe('http');
      expect(script).toContain(
        `wget -q -T 5 -O - http://${svc.metadata.name}:${port?.port}/readyz`,
      );
    }
  });

  it('runs database migrations as a hook Job per service with a database, never for the token broker', () => {
    const jobs = ofKind(objects(), 'Job');
    expect(jobs.map((j) => j.metadata.name).sort()).toEqual([
      'identity-policy-api-migrate',
      'identity-portal-migrate',
      'identity-scim-migrate',
    ]);
    for (const j of jobs) {
      expect(j.metadata.annotations?.['helm.sh/hook']).toContain('pre-upgrade');
      const c = containerOf(j);
      expect(c.command?.slice(0, 2)).toEqual([
        'node',
        'node_modules/@idp/service-kit/dist/migrate/cli.js',
      ]);
    }
  });
});

describe('the policy checks catch violations', () => {
  it('flags a writable root filesystem, a missing limit, an inline password and a credential URL', () => {
    const { objects } = parseAndValidate(
      renderYaml({
        set: [
          ...defaultSets,
          'scim.resources.requests.cpu=10m',
          'portal.env.SMTP_PASSWORD=hunter2',
          'policyApi.env.UPSTREAM=https://user:pw@example.com',
        ],
      }),
      [],
    );
    // values.schema.json refuses a writable root filesystem, so it is made after the render.
    const portal = objects.find(
      (o) => o.metadata.name === 'identity-portal' && o.kind === 'Deployment',
    )!;
    containerOf(portal).securityContext!.readOnlyRootFilesystem = false;
    expect(insecureContainers(objects)).toEqual([
      'Deployment/identity-portal/portal: writable root filesystem',
    ]);
    expect(missingResources(objects)).toEqual([
      'Deployment/identity-scim/scim: no cpu/memory requests and limits',
    ]);
    expect(inlineSecrets(objects)).toEqual([
      'Deployment/identity-portal/portal: SMTP_PASSWORD has an inline value',
      'Deployment/identity-policy-api/policy-api: UPSTREAM has credentials in a URL',
    ]);
  });

  it('flags what Pod Security "restricted" refuses at pod level', () => {
    const fake = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'x' },
      spec: {
        hostNetwork: true,
        securityContext: { runAsUser: 0 },
        volumes: [
          { name: 'root', hostPath: { path: '/' } },
          { name: 'tmp', emptyDir: {} },
        ],
        containers: [
          {
            name: 'c',
            image: 'i',
            ports: [{ containerPort: 80, hostPort: 80 }],
            securityContext: { privileged: true },
          },
        ],
      },
    } as unknown as K8sObject;
    expect(restrictedViolations([fake])).toEqual([
      'Pod/x: hostNetwork',
      'Pod/x: runs as uid 0',
      'Pod/x: volume root is hostPath',
      'Pod/x/c: hostPort 80',
      'Pod/x/c: privileged',
    ]);
  });

  it('flags API token mounts, RBAC objects and a projected token for the API server', () => {
    const fake = [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa' } },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'rb' },
      },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p' },
        spec: {
          containers: [{ name: 'c', image: 'i' }],
          volumes: [
            { name: 'kube', projected: { sources: [{ serviceAccountToken: { path: 't' } }] } },
            {
              name: 'azure',
              projected: {
                sources: [
                  { serviceAccountToken: { path: 't', audience: 'api://AzureADTokenExchange' } },
                ],
              },
            },
          ],
        },
      },
    ] as unknown as K8sObject[];
    expect(kubeApiAccess(fake)).toEqual([
      'ServiceAccount/sa: automountServiceAccountToken is not false',
      'RoleBinding/rb: RBAC object',
      'Pod/p: automountServiceAccountToken is not false',
      'Pod/p: volume kube projects an API server token (no audience)',
    ]);
  });

  it('flags a container without probes', () => {
    const fake = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x' },
      spec: { template: { metadata: {}, spec: { containers: [{ name: 'c', image: 'i' }] } } },
    } as K8sObject;
    expect(missingProbes([fake])).toEqual(['Deployment/x/c: no liveness/readiness probe']);
  });
});
