// The declarative configuration: the seed file is valid, and mistakes stop
// the boot with a message naming the JSON path.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DevAzureConfigError,
  loadDevAzureConfig,
  parseDevAzureConfig,
  type DevAzureConfigInput,
} from '../../src';
import { seedConfig } from '../support/harness';

/** Element `i`, failing the test when it is missing. */
function at<T>(items: readonly T[] | undefined, i: number): T {
  const item = items?.[i];
  if (item === undefined) throw new Error(`no element ${i}`);
  return item;
}

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
    expect(parseDevAzureConfig(asInput).tenants).toHaveLength(4);
    const contoso = cfg.tenants.find((t) => t.name === 'contoso');
    expect(contoso?.type).toBe('b2c');
    expect(contoso?.userFlows.map((f) => f.name)).toEqual([
      'B2C_1_signupsignin',
      'B2C_1_signupsignin_mfa',
      'B2C_1_profileedit',
      'B2C_1_passwordreset',
    ]);
    expect(at(contoso?.userFlows, 1).mfa).toBe('totp');
    expect(at(cfg.clusterIssuers, 0).name).toBe('local');
    const broker = cfg.tenants
      .find((t) => t.name === 'fabrikam')
      ?.apps.find((a) => a.name === 'token-broker');
    expect(at(broker?.federatedCredentials, 0).audiences).toEqual(['api://AzureADTokenExchange']);
  });

  it('names the path and the problem', () => {
    expect(errorOf(mutate((c) => (at(at(c.tenants, 0).apps, 0).clientId = 'not-a-guid')))).toMatch(
      /test\.json[\s\S]*tenants\[0\]\.apps\[0\]\.clientId: Invalid GUID/,
    );
    expect(
      errorOf(mutate((c) => ((at(c.tenants, 0) as Record<string, unknown>).colour = 'blue'))),
    ).toMatch(/tenants\[0\]: Unrecognized key: "colour"/);
    expect(
      errorOf(
        mutate(
          (c) =>
            (at(at(c.tenants, 0).apps, 2).grantedAppRoles = [
              { resource: 'policy-api', roles: ['Nope'] },
            ]),
        ),
      ),
    ).toMatch(
      /tenants\[0\]\.apps\[2\]\.grantedAppRoles\[0\]\.roles: app "policy-api" defines no app role Nope/,
    );
    expect(
      errorOf(
        mutate(
          (c) => (at(at(c.tenants, 1).apps, 0).clientId = at(at(c.tenants, 0).apps, 0).clientId),
        ),
      ),
    ).toMatch(/client id .* is used twice/);
    expect(errorOf(mutate((c) => (at(at(c.tenants, 0).users, 0).password = 'short')))).toMatch(
      /users\[0\]\.password: The password must be between 8 and 64/,
    );
    expect(
      errorOf(mutate((c) => (at(at(c.tenants, 0).userFlows, 0).name = 'signupsignin'))),
    ).toMatch(/userFlows\[0\]\.name: a user flow name/);
    expect(
      errorOf(mutate((c) => (at(c.keyVault?.roleAssignments, 0).principal = 'ghost'))),
    ).toMatch(/keyVault\.roleAssignments\[0\]\.principal: unknown principal "ghost"/);
    expect(
      errorOf(
        mutate((c) => (at(at(c.tenants, 0).apps, 0).redirectUris = ['http://portal.example/cb'])),
      ),
    ).toMatch(/redirectUris\[0\]: web redirect URIs must use https/);
  });

  it('loads the External ID tenant: step-up context, its policy, a user migrated from the B2C tenant', () => {
    const cfg = loadDevAzureConfig();
    const ext = cfg.tenants.find((t) => t.name === 'contosoext');
    expect(ext?.type).toBe('external');
    expect(ext?.authenticationContexts.map((c) => c.id)).toEqual(['c1']);
    expect(at(ext?.conditionalAccessPolicies, 0)).toMatchObject({
      authenticationContext: 'c1',
      grant: 'mfa',
    });
    const b2cAlice = cfg.tenants
      .find((t) => t.name === 'contoso')
      ?.users.find((u) => u.email === 'alice@contoso.example');
    const migrated = ext?.users.find((u) => u.legacyB2cObjectId !== undefined);
    expect(migrated?.legacyB2cObjectId).toBe(b2cAlice?.objectId);
    expect(migrated?.objectId).not.toBe(b2cAlice?.objectId);
  });

  it('keeps External ID settings to external tenants and checks their references', () => {
    const ext = (c: DevAzureConfigInput) => c.tenants.find((t) => t.name === 'contosoext')!;
    const b2c = (c: DevAzureConfigInput) => c.tenants.find((t) => t.name === 'contoso')!;
    expect(
      errorOf(
        mutate((c) => (at(b2c(c).users, 0).legacyB2cObjectId = at(b2c(c).users, 1).objectId)),
      ),
    ).toMatch(
      /tenants\[0\]\.users\[0\]\.legacyB2cObjectId: legacyB2cObjectId exists only in external tenants/,
    );
    expect(
      errorOf(mutate((c) => (b2c(c).authenticationContexts = [{ id: 'c1', displayName: 'x' }]))),
    ).toMatch(/authenticationContexts exists only in external tenants/);
    expect(
      errorOf(
        mutate((c) => (at(ext(c).conditionalAccessPolicies, 0).authenticationContext = 'c7')),
      ),
    ).toMatch(
      /conditionalAccessPolicies\[0\]\.authenticationContext: no authentication context "c7"/,
    );
    expect(
      errorOf(
        mutate((c) => (ext(c).conditionalAccessPolicies = [{ name: 'all', apps: ['ghost'] }])),
      ),
    ).toMatch(/conditionalAccessPolicies\[0\]\.apps: no app "ghost"/);
    expect(
      errorOf(
        mutate(
          (c) =>
            (ext(c).conditionalAccessPolicies = [
              { name: 'both', apps: ['portal'], authenticationContext: 'c1' },
            ]),
        ),
      ),
    ).toMatch(/exactly one of "apps" or "authenticationContext"/);
    expect(
      errorOf(
        mutate((c) => (ext(c).authenticationContexts = [{ id: 'step-up', displayName: 'x' }])),
      ),
    ).toMatch(/authenticationContexts\[0\]\.id: c1 to c99/);
    expect(
      errorOf(
        mutate(
          (c) =>
            (at(ext(c).apps, 0).apiPermissions = [
              { resource: 'https://graph.microsoft.com', scopes: ['Mail.Read'] },
            ]),
        ),
      ),
    ).toMatch(/app "microsoft-graph" exposes no scope Mail\.Read/);
    expect(errorOf(mutate((c) => (ext(c).subdomain = 'contoso')))).toMatch(
      /subdomain "contoso" is also used by tenant "contoso"/,
    );
  });

  it('reports unreadable and non-JSON files', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-azure-cfg-'));
    const file = path.join(dir, 'bad.json');
    fs.writeFileSync(file, '{ nope');
    expect(() => loadDevAzureConfig(file)).toThrow(/bad\.json[\s\S]*not valid JSON/);
    expect(() => loadDevAzureConfig(path.join(dir, 'missing.json'))).toThrow(
      /missing\.json[\s\S]*cannot read file \(ENOENT\)/,
    );
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
