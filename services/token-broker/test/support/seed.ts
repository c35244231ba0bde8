// Ids from dev-azure's seed configuration, looked up by name so they never drift.
import { loadDevAzureConfig } from '@idp/dev-azure';

const seed = loadDevAzureConfig();

export function tenantId(name: string): string {
  const t = seed.tenants.find((x) => x.name === name);
  if (!t) throw new Error(`seed has no tenant ${name}`);
  return t.id;
}

export function clientId(tenant: string, app: string): string {
  const a = seed.tenants.find((x) => x.name === tenant)?.apps.find((x) => x.name === app);
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
/** The same resource by its application id: another cache entry, the same client assertion. */
export const POLICY_SCOPE_BY_ID = `api://${ids.policyApi}/.default`;
export const CLAIMS_SCOPE = 'api://northwind-claims/.default';
export const CERTIFICATE = 'policy-daemon';
