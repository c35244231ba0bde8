// The chart's monitoring (off by default, schema-validated): ServiceMonitors that select the
// services, a PrometheusRule promtool accepts, Grafana dashboards for the sidecar, and every
// metric an alert or a panel names is one the running services really export (scraped here).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  defaultSets,
  helm,
  ofKind,
  parseAndValidate,
  renderYaml,
  templateArgs,
  type K8sObject,
} from '../chart/support/chart';
import { call } from '../support/http';
import { startStack, type Stack } from '../support/stack';
import { scimAdminToken } from '../support/tokens';

jest.setTimeout(120_000);

const ON = [
  'monitoring.serviceMonitor.enabled=true',
  'networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name=monitoring',
  'monitoring.prometheusRule.enabled=true',
  'monitoring.dashboards.enabled=true',
];
const MONITORING_KINDS = ['ServiceMonitor', 'PrometheusRule'];
// Series Prometheus gets from elsewhere: kube-state-metrics (pod readiness).
const EXTERNAL = new Set(['kube_pod_status_ready']);

interface Rule {
  alert: string;
  expr: string;
}
interface Dashboard {
  panels: { title: string; targets: { expr: string }[] }[];
}

const rendered = () => parseAndValidate(renderYaml({ set: [...defaultSets, ...ON] }), []).objects;
/** The one PrometheusRule of a render (throws when the chart rendered none). */
const ruleObject = (objects: K8sObject[]): K8sObject => {
  const rule = ofKind(objects, 'PrometheusRule')[0];
  if (!rule) throw new Error('the chart rendered no PrometheusRule');
  return rule;
};
const rulesOf = (objects: K8sObject[]) =>
  (ruleObject(objects).spec as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const dashboardsOf = (objects: K8sObject[]) =>
  ofKind(objects, 'ConfigMap')
    .filter((c) => c.metadata.labels?.grafana_dashboard === '1')
    .flatMap((c) => Object.values(c.data ?? {}).map((json) => JSON.parse(json) as Dashboard));
/** Metric names in a PromQL expression: every name is written with a selector (`name{...}`). */
const metricsIn = (expr: string) =>
  [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g)].map((m) => m[1] ?? '');

describe('chart monitoring', () => {
  it('renders nothing for Prometheus or Grafana unless asked', () => {
    const objects = parseAndValidate(renderYaml({ set: defaultSets }), []).objects;
    expect(objects.filter((o) => MONITORING_KINDS.includes(o.kind))).toEqual([]);
    expect(dashboardsOf(objects)).toEqual([]);
  });

  it('scrapes every service: one ServiceMonitor selecting each Service by its labels, on the http port', () => {
    const objects = rendered();
    const services = ofKind(objects, 'Service').filter((s) =>
      ['portal', 'policy-api', 'scim', 'token-broker'].includes(
        s.metadata.labels?.['app.kubernetes.io/name'] ?? '',
      ),
    );
    const monitors = ofKind(objects, 'ServiceMonitor');
    expect(monitors).toHaveLength(4);
    for (const svc of services) {
      const m = monitors.find((x) => {
        const sel = (x.spec as { selector: { matchLabels: Record<string, string> } }).selector
          .matchLabels;
        return Object.entries(sel).every(([k, v]) => svc.metadata.labels?.[k] === v);
      });
      expect(m?.spec).toMatchObject({ endpoints: [{ port: 'http', path: '/metrics' }] });
    }
  });

  it('refuses a misspelt monitoring value (schema)', () => {
    const r = helm(
      templateArgs({ set: [...defaultSets, 'monitoring.prometheusRule.scimTokenExpiryDay=3'] }),
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/scimTokenExpiryDay/);
  });

  it('needs the scrapers as NetworkPolicy peers when network policies are on: the default deny would block every scrape', () => {
    const render = (...set: string[]) =>
      helm(
        templateArgs({ set: [...defaultSets, 'monitoring.serviceMonitor.enabled=true', ...set] }),
      );
    const refused = render();
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain(
      'networkPolicy.metricsFrom is required with monitoring.serviceMonitor.enabled and networkPolicy.enabled',
    );
    const withoutPolicies = render('networkPolicy.enabled=false');
    expect({ status: withoutPolicies.status, stderr: withoutPolicies.stderr }).toEqual({
      status: 0,
      stderr: '',
    });
  });

  it('ships rules promtool accepts', () => {
    const promtool = process.env.PROMTOOL_BIN ?? 'promtool';
    const rule = ruleObject(rendered());
    const dir = mkdtempSync(join(tmpdir(), 'rules-'));
    try {
      const file = join(dir, 'rules.json'); // JSON is YAML: promtool reads the PrometheusRule's spec as a rules file
      writeFileSync(file, JSON.stringify(rule.spec));
      const r = spawnSync(promtool, ['check', 'rules', file], { encoding: 'utf8' });
      expect(r.error).toBeUndefined();
      // promtool read every rule the chart renders (a rule it skipped would not be counted).
      const ruleCount = (rule.spec as { groups: { rules: unknown[] }[] }).groups.reduce(
        (n, g) => n + g.rules.length,
        0,
      );
      expect(ruleCount).toBeGreaterThanOrEqual(7);
      expect(`${r.stdout}${r.stderr}`).toContain(`SUCCESS: ${ruleCount} rules found`);
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('against the running services', () => {
    let stack: Stack;
    const exported = new Set<string>();

    beforeAll(async () => {
      stack = await startStack({
        services: ['policy-api', 'scim', 'token-broker', 'portal'],
        env: { scim: { SCIM_TOKEN_CHECK_INTERVAL_MS: '1000' } },
      });
      // Some traffic, so that labelled series exist too.
      const admin = await scimAdminToken(stack);
      // Directories exist only once created (admin API).
      const directory = await call('POST', `${stack.url('scim')}/admin/directories`, {
        token: admin,
        body: { id: 'metrics' },
      });
      expect(directory.status).toBe(201);
      const created = await call<{ token: string }>(
        'POST',
        `${stack.url('scim')}/admin/directories/metrics/tokens`,
        { token: admin, body: { name: 'm', lifetimeDays: 30 } },
      );
      expect(created.status).toBe(201);
      await call('GET', `${stack.url('scim')}/scim/v2/Users`, { token: created.body.token });
      await call('GET', `${stack.url('policy-api')}/policies/me`);
      await new Promise((r) => setTimeout(r, 1500)); // one token expiry check
      for (const s of ['policy-api', 'scim', 'token-broker', 'portal'] as const) {
        const text = await (await fetch(`${stack.url(s)}/metrics`)).text();
        for (const [, name = '', type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
          exported.add(name);
          if (type === 'histogram')
            ['_bucket', '_sum', '_count'].forEach((x) => exported.add(name + x));
        }
      }
    }, 180_000);
    afterAll(async () => {
      await stack?.stop();
    });

    it('exports the RED, outbox, SCIM and broker series', () => {
      for (const m of [
        'http_server_requests_total',
        'http_server_request_duration_seconds',
        'outbox_oldest_pending_age_seconds',
        'scim_directory_requests_total',
        'scim_token_expiry_seconds',
        'token_broker_refresh_failures_total',
        'token_broker_issued_total',
      ])
        expect(exported).toContain(m);
    });

    it('names in every alert and dashboard query only metrics the services export', () => {
      const objects = rendered();
      const queries: [where: string, expr: string][] = [
        ...rulesOf(objects).map((r): [string, string] => [r.alert, r.expr]),
        ...dashboardsOf(objects).flatMap((d) =>
          d.panels.map((p): [string, string] => [p.title, p.targets[0]?.expr ?? '']),
        ),
      ];
      expect(queries.length).toBeGreaterThan(10);
      const unknown = queries.flatMap(([where, expr]) =>
        metricsIn(expr)
          .filter((m) => !exported.has(m) && !EXTERNAL.has(m))
          .map((m) => `${where}: ${m}`),
      );
      expect(unknown).toEqual([]);
      expect(queries.every(([, expr]) => metricsIn(expr).length > 0)).toBe(true);
    });

    it('labels requests by route template and status, never by raw path', async () => {
      const text = await (await fetch(`${stack.url('scim')}/metrics`)).text();
      expect(text).toMatch(
        /http_server_requests_total\{method="GET",route="\/scim\/v2\/Users",status_code="200"\} 1/,
      );
      expect(text).toMatch(
        /scim_directory_requests_total\{directory="metrics",outcome="success"\} 1/,
      );
      expect(text).toMatch(
        /scim_token_expiry_seconds\{directory="metrics"\} (25[0-9]{5}|2[6-9][0-9]{5})/,
      );
      await fetch(`${stack.url('scim')}/no/such/path-${Date.now()}`);
      const after = await (await fetch(`${stack.url('scim')}/metrics`)).text();
      expect(after).toMatch(/route="unmatched",status_code="404"/);
      expect(after).not.toMatch(/no\/such/);
    });
  });
});
