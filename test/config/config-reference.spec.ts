import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const services = ['portal', 'policy-api', 'scim', 'token-broker'];

/** The variable names a service validates at boot: the keys of the zod object schemas its config module exports. */
async function envKeys(service: string): Promise<string[]> {
  const mod = (await import(join(root, 'services', service, 'dist', 'config.js'))) as Record<
    string,
    unknown
  >;
  const keys = new Set<string>();
  for (const v of Object.values(mod)) {
    const shape = (v as { shape?: Record<string, unknown> } | null)?.shape;
    if (shape && typeof shape === 'object')
      for (const k of Object.keys(shape)) if (/^[A-Z][A-Z0-9_]*$/.test(k)) keys.add(k);
  }
  return [...keys].sort();
}

describe('README configuration reference', () => {
  it.each(services)('documents every variable %s reads', async (service) => {
    const keys = await envKeys(service);
    expect(keys.length).toBeGreaterThan(3);
    const undocumented = keys.filter((k) => !readme.includes(`\`${k}\``));
    expect(undocumented).toEqual([]);
  });

  it.each(services)('lists under %s only variables that service reads', async (service) => {
    const keys = new Set(await envKeys(service));
    const start = readme.indexOf(`### ${service} (`);
    const end = readme.indexOf('\n### ', start + 1);
    expect(start).toBeGreaterThan(0);
    const section = readme.slice(start, end);
    const named = section
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .flatMap((l) => [...l.split('|')[1].matchAll(/`([^`]+)`/g)].map((m) => m[1]));
    expect(named.length).toBeGreaterThan(3);
    expect(named.filter((n) => !keys.has(n))).toEqual([]);
  });

  it('is what scripts/config-reference.mjs generates from the service READMEs', () => {
    const r = spawnSync(
      process.execPath,
      [join(root, 'scripts', 'config-reference.mjs'), '--check'],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
