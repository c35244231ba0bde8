// The declarative configuration: the seed file is valid, and mistakes stop
// the boot with a message naming the JSON path.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DevAzureConfigError, loadDevAzureConfig, parseDevAzureConfig, type DevAzureConfigInput } from '../src';
import { seedConfig } from './helpers/harness';

function errorOf(cfg: unknown): string {
  try {
    parseDevAzureConfig(cfg, 'test.json');
  } catch (err) {
    expect(err).toBeInstanceOf(DevAzureConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a configuration error');
}

function mutate(fn: (cfg: DevAzureConfigInput) => void): DevAzureConfigInput {
  const cfg = seedConfig();
  fn(cfg);
  return cfg;
}

describe('dev-azure configuration', () => {
  it('loads the seed configuration with defaults filled in', () => {
    const cfg = loadDevAzureConfig();
    // A parsed configuration can be passed back where input is expected (startDevAzure({ config })).
    const asInput: DevAzureConfigInput = cfg;
    expect(parseDevAzureConfig(asInput).tenants).toHaveLength(3);
    const contoso = cfg.tenants.find((t) => t.name === 'contoso');
    expect(contoso?.type).toBe('b2c');
    expect(contoso?.userFlows.map((f) => f.name)).toEqual(['B2C_1_signupsignin', 'B2C_1_signupsignin_mfa', 'B2C_1_profileedit', 'B2C_1_passwordreset']);
    expect(contoso?.userFlows[1].mfa).toBe('totp');
    expect(cfg.clusterIssuers[0].name).toBe('local');
    expect(cfg.tenants.find((t) => t.name === 'fabrikam')?.apps.find((a) => a.name === 'token-broker')?.federatedCredentials[0].audiences).toEqual([
      'api://AzureADTokenExchange',
    ]);
  });

  it('names the path and the problem', () => {
    expect(errorOf(mutate((c) => (c.tenants[0].apps![0].clientId = 'not-a-guid')))).toMatch(/test\.json[\s\S]*tenants\[0\]\.apps\[0\]\.clientId: Invalid GUID/);
    expect(errorOf(mutate((c) => ((c.tenants[0] as Record<string, unknown>).colour = 'blue')))).toMatch(/tenants\[0\]: Unrecognized key: "colour"/);
    expect(errorOf(mutate((c) => (c.tenants[0].apps![2].grantedAppRoles = [{ resource: 'policy-api', roles: ['Nope'] }])))).toMatch(
      /tenants\[0\]\.apps\[2\]\.grantedAppRoles\[0\]\.roles: app "policy-api" defines no app role Nope/,
    );
    expect(errorOf(mutate((c) => (c.tenants[1].apps![0].clientId = c.tenants[0].apps![0].clientId)))).toMatch(/client id .* is used twice/);
    expect(errorOf(mutate((c) => (c.tenants[0].users![0].password = 'short')))).toMatch(/users\[0\]\.password: The password must be between 8 and 64/);
    expect(errorOf(mutate((c) => (c.tenants[0].userFlows![0].name = 'signupsignin')))).toMatch(/userFlows\[0\]\.name: a user flow name/);
    expect(errorOf(mutate((c) => (c.keyVault!.roleAssignments![0].principal = 'ghost')))).toMatch(/keyVault\.roleAssignments\[0\]\.principal: unknown principal "ghost"/);
    expect(errorOf(mutate((c) => (c.tenants[0].apps![0].redirectUris = ['http://portal.example/cb'])))).toMatch(/redirectUris\[0\]: web redirect URIs must use https/);
  });

  it('reports unreadable and non-JSON files', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-azure-cfg-'));
    const file = path.join(dir, 'bad.json');
    fs.writeFileSync(file, '{ nope');
    expect(() => loadDevAzureConfig(file)).toThrow(/bad\.json[\s\S]*not valid JSON/);
    expect(() => loadDevAzureConfig(path.join(dir, 'missing.json'))).toThrow(/missing\.json[\s\S]*cannot read file \(ENOENT\)/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
