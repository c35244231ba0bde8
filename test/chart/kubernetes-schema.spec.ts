// Every rendered object is valid against the Kubernetes OpenAPI schemas (strict: unknown
// fields fail), offline, through the kubernetes-validate package's bundled schemas.
import { parseAndValidate, renderSet, schemaVersions, valueSets } from './support/chart';

describe('rendered manifests against the Kubernetes OpenAPI schemas', () => {
  it.each(valueSets)('every object rendered from the %s values is valid', (set) => {
    const { objects, errors } = renderSet(set, true);
    expect(objects.length).toBeGreaterThan(10);
    expect(errors).toEqual([]);
  });

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
