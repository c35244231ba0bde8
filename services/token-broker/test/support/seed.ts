// Ids from dev-azure's seed configuration, looked up by name so they never drift.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface SeedApp {
  name: string;
  clientId: string;
  identifierUris?: string[];
}
interface SeedTenant {
  name: string;
  id: string;
  apps?: SeedApp[];
}

const seed = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', '..', 'dev-azure', 'config', 'dev-azure.json'), 'utf8')) as { tenants: SeedTenant[] };

export function tenantId(name: string): string {
  const t = seed.tenants.find((x) => x.name === name);
  if (!t) throw new Error(`seed has no tenant ${name}`);
  return t.id;
}

export function clientId(tenant: string, app: string): string {
  const a = seed.tenants.find((x) => x.name === tenant)?.apps?.find((x) => x.name === app);
  if (!a) throw new Error(`seed has no app ${tenant}/${app}`);
  return a.clientId;
}

export const ids = {
  fabrikam: tenantId('fabrikam'),
  contoso: tenantId('contoso'),
  northwind: tenantId('northwind'),
  broker: clientId('fabrikam', 'token-broker'),
  daemon: clientId('fabrikam', 'policy-daemon-kv'),
  policyApi: clientId('contoso', 'policy-api'),
  claimsApi: clientId('northwind', 'claims-api'),
};

export const POLICY_SCOPE = 'api://policy-api/.default';
export const CLAIMS_SCOPE = 'api://northwind-claims/.default';
export const CERTIFICATE = 'policy-daemon';
