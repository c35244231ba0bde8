// Paths of the user-flow pages (same origin, so relative).
import type { TenantConfig, UserFlowConfig } from '../../config/schema';
import type { AuthorizeTransaction } from '../signin/transactions';

export function uiUrl(
  tenant: TenantConfig,
  flow: UserFlowConfig,
  page: string,
  tx: AuthorizeTransaction,
): string {
  return `/${tenant.name}.onmicrosoft.com/${flow.name.toLowerCase()}/ui/${page}?tx=${encodeURIComponent(tx.id)}`;
}
