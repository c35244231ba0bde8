// The chart's optional `telemetry` block: off by default (no OTEL_* variable anywhere, so the
// services load no tracing code), on it gives every service the standard OTEL_* variables that
// service-kit's tracing reads, validated by values.schema.json, plus NetworkPolicy egress to the
// collector when peers are given.
import { tracingRequested } from '@idp/service-kit';
import {
  defaultSets,
  helm,
  namespace,
  ofKind,
  parseAndValidate,
  renderYaml,
  templateArgs,
  valueSets,
  renderSet,
  type K8sObject,
} from './support/chart';

interface EnvVar {
  name: string;
  value?: string;
}
interface Deployment extends K8sObject {
  spec: { template: { spec: { containers: { name: string; env?: EnvVar[] }[] } } };
}
interface NetworkPolicy extends K8sObject {
  spec: {
    podSelector: { matchLabels?: Record<string, string> };
    egress?: { to?: unknown[]; ports?: { port: number; protocol: string }[] }[];
  };
}

const SERVICES = ['policy-api', 'portal', 'scim', 'token-broker'];
const ENDPOINT = 'http://otel-collector.monitoring:4318';
const COLLECTOR = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'mon' } } };

/** The collector as a NetworkPolicy peer: required with tracing on and network policies on (the default). */
const PEER =
  'telemetry.networkPolicy.to[0].namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name=mon';
const render = (set: string[]) =>
  parseAndValidate(renderYaml({ set: [...defaultSets, PEER, ...set] }));
const serviceEnvs = (objects: K8sObject[]): Map<string, Record<string, string>> =>
  new Map(
    ofKind<Deployment>(objects, 'Deployment')
      .filter((d) => SERVICES.includes(d.metadata.labels?.['app.kubernetes.io/name'] ?? ''))
      .map((d) => {
        const container = d.spec.template.spec.containers[0];
        const env = Object.fromEntries(
          (container?.env ?? []).map((e) => [e.name, e.value ?? '(from a reference)']),
        );
        return [container?.name ?? d.metadata.name, env];
      }),
  );
const refused = (set: string[], peer = [PEER]): string => {
  const r = helm(templateArgs({ set: [...defaultSets, ...peer, ...set] }));
  expect(r.status).not.toBe(0);
  return r.stderr;
};

describe('chart telemetry values (OpenTelemetry)', () => {
  it.each(valueSets)('%s values set no OTEL_* variable (tracing off by default)', (set) => {
    const envs = serviceEnvs(renderSet(set).objects);
    expect([...envs.keys()].sort()).toEqual(SERVICES);
    for (const [service, env] of envs) {
      expect({ service, otel: Object.keys(env).filter((n) => n.startsWith('OTEL_')) }).toEqual({
        service,
        otel: [],
      });
      expect(tracingRequested(env)).toBe(false);
    }
  });

  it('enabled: every service gets the standard OTEL_* variables and would start tracing', () => {
    const { objects } = render([
      'telemetry.enabled=true',
      `telemetry.endpoint=${ENDPOINT}`,
      'telemetry.protocol=grpc',
      'telemetry.sampler.ratio=0.25',
      'telemetry.resourceAttributes.k8s\\.cluster\\.name=aks-westeurope',
      'global.image.tag=1.2.3',
    ]);
    const envs = serviceEnvs(objects);
    expect([...envs.keys()].sort()).toEqual(SERVICES);
    for (const [service, env] of envs) {
      expect(env).toMatchObject({
        OTEL_SERVICE_NAME: service,
        OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
      });
      expect((env.OTEL_RESOURCE_ATTRIBUTES ?? '').split(',').sort()).toEqual([
        'k8s.cluster.name=aks-westeurope',
        `service.namespace=${namespace}`,
        'service.version=1.2.3',
      ]);
      expect(tracingRequested(env)).toBe(true);
    }
  });

  it('a sampler without a ratio sets no OTEL_TRACES_SAMPLER_ARG; resource attributes may override the chart’s', () => {
    const envs = serviceEnvs(
      render([
        'telemetry.enabled=true',
        `telemetry.endpoint=${ENDPOINT}`,
        'telemetry.sampler.name=parentbased_always_on',
        'telemetry.resourceAttributes.service\\.namespace=identity',
      ]).objects,
    );
    for (const env of envs.values()) {
      expect(env.OTEL_TRACES_SAMPLER).toBe('parentbased_always_on');
      expect(env.OTEL_TRACES_SAMPLER_ARG).toBeUndefined();
      expect(env.OTEL_RESOURCE_ATTRIBUTES).toMatch(/(^|,)service\.namespace=identity(,|$)/);
    }
  });

  it('the schema refuses an enabled block without endpoint, unknown protocols and samplers, a ratio above 1 and attribute values that would break the list', () => {
    expect(refused(['telemetry.enabled=true'])).toMatch(/telemetry\/endpoint/);
    expect(refused(['telemetry.protocol=http'])).toMatch(/telemetry\/protocol/);
    expect(refused(['telemetry.sampler.name=sometimes'])).toMatch(/telemetry\/sampler\/name/);
    expect(refused(['telemetry.sampler.ratio=2'])).toMatch(/telemetry\/sampler\/ratio/);
    expect(refused(['telemetry.endpoint=otel:4318'])).toMatch(/telemetry\/endpoint/);
    expect(refused(['telemetry.resourceAttributes.team=a\\,b'])).toMatch(
      /telemetry\/resourceAttributes/,
    );
    expect(refused(['telemetry.exporter=zipkin'])).toMatch(/exporter/);
  });

  it('enabled with network policies on, the collector peers are required: the default deny would drop every span', () => {
    expect(refused(['telemetry.enabled=true', `telemetry.endpoint=${ENDPOINT}`], [])).toContain(
      'telemetry.networkPolicy.to is required with telemetry.enabled and networkPolicy.enabled',
    );
    const r = helm(
      templateArgs({
        set: [
          ...defaultSets,
          'telemetry.enabled=true',
          `telemetry.endpoint=${ENDPOINT}`,
          'networkPolicy.enabled=false',
        ],
      }),
    );
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  });

  it('a service env entry may not shadow a variable the telemetry block sets', () => {
    expect(
      refused([
        'telemetry.enabled=true',
        `telemetry.endpoint=${ENDPOINT}`,
        'scim.env.OTEL_EXPORTER_OTLP_ENDPOINT=http://elsewhere:4318',
      ]),
    ).toMatch(/scim.*OTEL_EXPORTER_OTLP_ENDPOINT.*telemetry/);
  });

  it('with peers given, each service’s NetworkPolicy lets it reach the collector on the OTLP ports', () => {
    const policies = (set: string[]) =>
      ofKind<NetworkPolicy>(render(set).objects, 'NetworkPolicy').filter((p) =>
        SERVICES.includes(p.spec.podSelector.matchLabels?.['app.kubernetes.io/name'] ?? ''),
      );
    const toCollector = (p: NetworkPolicy) =>
      (p.spec.egress ?? []).filter((e) => JSON.stringify(e.to) === JSON.stringify([COLLECTOR]));
    const on = policies([
      'telemetry.enabled=true',
      `telemetry.endpoint=${ENDPOINT}`,
      'telemetry.networkPolicy.to[0].namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name=mon',
    ]);
    expect(on).toHaveLength(SERVICES.length);
    for (const p of on)
      expect(toCollector(p).map((e) => e.ports)).toEqual([
        [
          { port: 4317, protocol: 'TCP' },
          { port: 4318, protocol: 'TCP' },
        ],
      ]);
    // Peers given but telemetry off: no rule.
    const off = policies([
      'telemetry.networkPolicy.to[0].namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name=mon',
    ]);
    for (const p of off) expect(toCollector(p)).toEqual([]);
  });
});
