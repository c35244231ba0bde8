// Loads and validates the declarative configuration; any problem stops the
// boot with a message naming the file, the JSON path and what is wrong.
import fs from 'node:fs';
import path from 'node:path';
import { checkReferences, type ConfigIssue } from './references';
import { devAzureConfigSchema, type DevAzureConfig, type DevAzureConfigInput } from './schema';

/** dev-azure/config/dev-azure.json (same relative place from src/ and dist/). */
export const seedConfigPath = path.resolve(__dirname, '..', '..', 'config', 'dev-azure.json');

export class DevAzureConfigError extends Error {
  constructor(
    readonly source: string,
    readonly issues: ConfigIssue[],
  ) {
    super(
      `Invalid dev-azure configuration (${source}):\n${issues.map((i) => `  - ${formatPath(i.path)}: ${i.message}`).join('\n')}`,
    );
    this.name = 'DevAzureConfigError';
  }
}

export function parseDevAzureConfig(input: unknown, source = '<inline config>'): DevAzureConfig {
  const parsed = devAzureConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new DevAzureConfigError(
      source,
      parsed.error.issues.map((i) => ({
        path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
        message: i.message,
      })),
    );
  }
  const issues = checkReferences(parsed.data);
  if (issues.length > 0) throw new DevAzureConfigError(source, issues);
  return parsed.data;
}

export function loadDevAzureConfig(file: string = seedConfigPath): DevAzureConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new DevAzureConfigError(file, [
      { path: [], message: `cannot read file (${(err as NodeJS.ErrnoException).code ?? 'error'})` },
    ]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DevAzureConfigError(file, [
      { path: [], message: `not valid JSON: ${(err as Error).message}` },
    ]);
  }
  return parseDevAzureConfig(json, file);
}

/** Parses an inline config object or loads the file (explicit path or the seed file). */
export function resolveConfig(o: {
  config?: DevAzureConfigInput;
  configPath?: string;
}): DevAzureConfig {
  if (o.config) return parseDevAzureConfig(o.config);
  return loadDevAzureConfig(o.configPath ?? seedConfigPath);
}

function formatPath(p: (string | number)[]): string {
  if (p.length === 0) return '(root)';
  return p
    .map((seg, i) => (typeof seg === 'number' ? `[${seg}]` : i === 0 ? seg : `.${seg}`))
    .join('');
}
