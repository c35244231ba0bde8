// Every rendered object is valid against the Kubernetes OpenAPI schemas (strict: unknown
// fields fail), offline, through the kubernetes-validate package's bundled schemas.
import {
  parseAndValidate,
  renderSet,
  renderYaml,
  schemaVersions,
  valueSets,
} from './support/chart';

// Every optional feature at once, on top of the kind values (in-chart NATS and PostgreSQL, the
// stand-ins) and the AKS values (external NATS and PostgreSQL, workload identity webhook): what a platform team turns on in production must still be valid together.
const everythingOn = [
  'monitoring.serviceMonitor.enabled=true',
  'monitoring.serviceMonitor.labels.release=prometheus',
  'monitoring.prometheusRule.enabled=true',
  'monitoring.dashboards.enabled=true',
  'telemetry.enabled=true',
  'telemetry.endpoint=http://otel-collector.monitoring:4318',
  'telemetry.networkPolicy.to[0].namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name=monitoring',
  'telemetry.resourceAttributes.deployment\\.environment\\.name=prod',
  'scim.rateLimit.perSecond=50',
  'scim.rateLimit.burst=100',
  'global.autoscaling.enabled=true',
  'global.pdb.maxUnavailable=null',
  'global.pdb.minAvailable=1',
  'global.trustedProxies[0]=10.244.0.0/16',
  'ingress.scimHost=scim.identity.localtest.me',
  'networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name=monitoring',
  'networkPolicy.natsFrom[0].podSelector.matchLabels.app=daemon',
  'tokenBroker.workloadIdentity.tenantId=00000000-0000-0000-0000-000000000000',
];
/** Custom resources of prometheus-operator: not in the Kubernetes OpenAPI schemas. */
const CUSTOM = /^\S+ (ServiceMonitor|PrometheusRule)\/\S+: /;

describe('rendered manifests against the Kubernetes OpenAPI schemas', () => {
  it.each(valueSets)('every object rendered from the %s values is valid', (set) => {
    const { objects, errors } = renderSet(set, true);
    expect(objects.length).toBeGreaterThan(10);
    expect(errors).toEqual([]);
  });

  it.each(['kind', 'aks'])(
    'every object rendered from the %s values is valid with every optional feature on (monitoring, tracing, rate limit, autoscaling, SCIM host, network peers)',
    (set) => {
      const { objects, errors } = parseAndValidate(
        renderYaml({ valuesFiles: [`values-${set}.yaml`], set: everythingOn }),
      );
      const kinds = new Set(objects.map((o) => o.kind));
      for (const k of [
        'ServiceMonitor',
        'PrometheusRule',
        'HorizontalPodAutoscaler',
        'NetworkPolicy',
      ])
        expect(kinds).toContain(k);
      expect(errors.filter((e) => !CUSTOM.test(e))).toEqual([]);
    },
  );

  it(`the validator itself rejects what a cluster would reject (${schemaVersions.join(', ')})`, () => {
    const bad = [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata: { name: x }',
      'spec:',
      '  selector: { matchLabels: { a: b } }',
      '  template:',
      '    metadata: { labels: { a: b } }',
      '    spec:',
      '      containers:',
      '        - name: x',
      '          image: x',
      '          readinessprobe: { httpGet: { path: /readyz, port: 80 } }',
    ].join('\n');
    const { errors } = parseAndValidate(bad);
    expect(errors.join('\n')).toContain('readinessprobe');
  });
});
