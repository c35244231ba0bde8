// Issuer and endpoint URLs, shaped like Azure's: Entra v2.0 issuers have no
// trailing slash, B2C issuers do.
import type { TenantConfig } from '../config/schema';

export function issuerFor(baseUrl: string, tenant: TenantConfig): string {
  return tenant.type === 'b2c' ? `${baseUrl}/${tenant.id}/v2.0/` : `${baseUrl}/${tenant.id}/v2.0`;
}

/** B2C endpoints use "<name>.onmicrosoft.com" and the lower-cased flow name, as b2clogin.com does. */
export function b2cFlowBase(baseUrl: string, tenant: TenantConfig, flowName: string): string {
  return `${baseUrl}/${tenant.name}.onmicrosoft.com/${flowName.toLowerCase()}`;
}
