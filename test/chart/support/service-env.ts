// The environment a service reads: the keys of the zod object its dist/config.js exports
// (the one with a PORT key), and which of them have no default (required).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface ServiceEnvSchema {
  keys: string[];
  required: string[];
}

// Runs in a plain node process: the service's own zod instance, no jest transforms.
const probe = `
const mod = require(process.argv[1]);
const isObj = (v) => v && typeof v === 'object' && typeof v.safeParse === 'function' && v.shape && typeof v.shape === 'object';
const schemas = Object.values(mod).filter(isObj).filter((s) => 'PORT' in s.shape);
if (schemas.length !== 1) { console.error('expected one exported zod object with a PORT key, found ' + schemas.length); process.exit(2); }
const shape = schemas[0].shape;
const keys = Object.keys(shape);
const required = keys.filter((k) => !shape[k].safeParse(undefined).success);
process.stdout.write(JSON.stringify({ keys, required }));
`;

export function serviceEnvSchema(serviceDir: string): ServiceEnvSchema {
  const config = join(serviceDir, 'dist', 'config.js');
  if (!existsSync(config))
    throw new Error(`${config} is missing: build first (npx turbo run build)`);
  return JSON.parse(
    execFileSync(process.execPath, ['-e', probe, config], { encoding: 'utf8' }),
  ) as ServiceEnvSchema;
}

// Parses an environment with the service's own schema (refinements included) and prints the issues.
const check = `
const mod = require(process.argv[1]);
const isObj = (v) => v && typeof v === 'object' && typeof v.safeParse === 'function' && v.shape && typeof v.shape === 'object';
const [schema] = Object.values(mod).filter(isObj).filter((s) => 'PORT' in s.shape);
const r = schema.safeParse(JSON.parse(process.argv[2]));
process.stdout.write(JSON.stringify(r.success ? [] : r.error.issues.map((i) => i.path.join('.') + ': ' + i.message)));
`;

/** Problems the service would report at boot for this environment ([] when it would start). */
export function envProblems(serviceDir: string, env: Record<string, string>): string[] {
  const config = join(serviceDir, 'dist', 'config.js');
  return JSON.parse(
    execFileSync(process.execPath, ['-e', check, config, JSON.stringify(env)], {
      encoding: 'utf8',
    }),
  ) as string[];
}
