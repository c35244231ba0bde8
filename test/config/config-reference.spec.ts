import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commonEnvShape } from '@idp/service-kit';
import type { z } from 'zod';

// The README configuration reference is generated from the zod schemas (scripts/config-reference.mjs):
// every variable a service validates carries a description, and the README is what the generator
// writes from them. (The generator runs as a child process: a plain script, no I/O beyond files.)
const root = join(__dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const services = ['portal', 'policy-api', 'scim', 'token-broker'];
const common: Record<string, z.ZodType> = commonEnvShape;

/** The zod object schema of a service's environment: its config module's `envSchema`. */
async function envSchema(service: string): Promise<z.ZodObject> {
  const mod = (await import(join(root, 'services', service, 'dist', 'config.js'))) as {
    envSchema?: z.ZodObject;
  };
  if (!mod.envSchema?.shape)
    throw new Error(`services/${service}/src/config.ts must export its schema as envSchema`);
  return mod.envSchema;
}

const described = (field: z.ZodType | undefined): boolean => !!field?.description?.trim();

describe('README configuration reference', () => {
  it('has a description for every variable service-kit reads for every service', () => {
    expect(Object.keys(common).filter((name) => !described(common[name]))).toEqual([]);
  });

  it.each(services)('has a description for every variable %s reads', async (service) => {
    const shape = (await envSchema(service)).shape as Record<string, z.ZodType>;
    expect(Object.keys(shape).length).toBeGreaterThan(3);
    const undescribed = Object.keys(shape).filter(
      // A service's own default of a common variable (its PORT) keeps the common description.
      (name) => !described(shape[name]) && !described(common[name]),
    );
    expect(undescribed).toEqual([]);
  });

  it.each(services)('documents every variable %s reads', async (service) => {
    const keys = Object.keys((await envSchema(service)).shape);
    expect(keys.filter((k) => !readme.includes(`| \`${k}\` |`))).toEqual([]);
  });

  it.each(services)('lists under %s only variables that service reads', async (service) => {
    const keys = new Set(Object.keys((await envSchema(service)).shape));
    const start = readme.indexOf(`### ${service} (`);
    const end = readme.indexOf('\n### ', start + 1);
    expect(start).toBeGreaterThan(0);
    const named = readme
      .slice(start, end)
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .flatMap((l) => [...(l.split('|')[1] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]));
    expect(named.length).toBeGreaterThan(3);
    expect(named.filter((n) => n === undefined || !keys.has(n))).toEqual([]);
  });

  it('is what scripts/config-reference.mjs generates from the schemas', () => {
    const r = spawnSync(
      process.execPath,
      [join(root, 'scripts', 'config-reference.mjs'), '--check'],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
