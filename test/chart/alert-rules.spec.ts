// Unit tests of the chart's alert rules: `promtool test rules` feeds synthetic series to the
// rendered PrometheusRule and checks when each alert fires, with which labels and text
// (alert-rules.promtool.yaml). `promtool check rules` and the metric names are checked against the
// running services in test/observability/monitoring.spec.ts.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSets, ofKind, parseAndValidate, renderYaml } from './support/chart';

const TESTS = 'alert-rules.promtool.yaml';
// The thresholds the test file's series are built around, pinned here so that a new default in
// values.yaml does not silently change what is tested.
const SETS = [
  'monitoring.prometheusRule.enabled=true',
  'monitoring.prometheusRule.scimTokenExpiryDays=14',
];

/** Runs promtool in a directory holding the rendered rules (rules.json) and the test file. */
function promtoolTest(rules: unknown): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'alert-rules-'));
  try {
    writeFileSync(join(dir, 'rules.json'), JSON.stringify(rules)); // JSON is YAML for promtool
    copyFileSync(join(__dirname, TESTS), join(dir, TESTS));
    const r = spawnSync(process.env.PROMTOOL_BIN ?? 'promtool', ['test', 'rules', TESTS], {
      cwd: dir,
      encoding: 'utf8',
    });
    if (r.error) throw r.error;
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface RuleSpec {
  groups: { name: string; rules: { alert: string; expr: string; for?: string }[] }[];
}
const renderedRules = (): RuleSpec => {
  const objects = parseAndValidate(renderYaml({ set: [...defaultSets, ...SETS] }), []).objects;
  const rule = ofKind(objects, 'PrometheusRule')[0];
  if (!rule) throw new Error('the chart rendered no PrometheusRule');
  return rule.spec as unknown as RuleSpec;
};

describe('chart alert rules (promtool test rules)', () => {
  it('fire when and only when alert-rules.promtool.yaml expects (throttled directory, SCIM token expiry)', () => {
    const r = promtoolTest(renderedRules());
    expect(r.output).not.toMatch(/FAILED/);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  // The test above passing proves nothing unless a wrong rule would fail it.
  it.each([
    [
      'a throttling alert that waits 5 minutes less',
      'IdentityScimDirectoryThrottled',
      { for: '10m' },
    ],
    [
      'a throttling alert per pod, not per directory',
      'IdentityScimDirectoryThrottled',
      {
        expr: 'sum by (namespace, directory, pod) (rate(scim_requests_throttled_total{namespace="identity-platform"}[10m])) > 0',
      },
    ],
    [
      'a token expiry alert without the release namespace',
      'IdentityScimTokenExpiring',
      {
        expr: 'min by (namespace, directory) (scim_token_expiry_seconds) < 1209600',
      },
    ],
  ])('fail for %s', (_what, alert, change) => {
    const spec = renderedRules();
    const rule = spec.groups.flatMap((g) => g.rules).find((x) => x.alert === alert);
    expect(rule).toBeDefined();
    Object.assign(rule!, change);
    const r = promtoolTest(spec);
    expect(r.output).toMatch(/FAILED/);
    expect(r.status).not.toBe(0);
  });
});
