// Microsoft Graph as a resource of external tenants: the first-party app every
// tenant has, with the delegated permissions the stand-in's /v1.0/me serves.
import { appSchema, type AppConfig, type TenantConfig } from './schema';

export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
export const GRAPH_RESOURCE = 'https://graph.microsoft.com';

export const GRAPH_APP: AppConfig = appSchema.parse({
  name: 'microsoft-graph',
  displayName: 'Microsoft Graph',
  clientId: GRAPH_APP_ID,
  servicePrincipalId: '6d3e4f8a-1c2b-4e5f-8a9b-0c1d2e3f4a5b',
  identifierUris: [GRAPH_RESOURCE, 'https://graph.microsoft.com/', 'Microsoft Graph'],
  scopes: [
    { value: 'User.Read', description: 'Sign in and read user profile' },
    { value: 'User.ReadWrite', description: 'Read and write access to user profile' },
  ],
});

/** Graph by any of its names, in tenants that serve it (external tenants). */
export function isGraphReference(tenant: TenantConfig, ref: string): boolean {
  const lower = ref.toLowerCase().replace(/\/+$/, '');
  return (
    tenant.type === 'external' &&
    (lower === GRAPH_RESOURCE ||
      lower === GRAPH_APP_ID ||
      lower === 'microsoft graph' ||
      lower === 'microsoft-graph')
  );
}
