import type { PortalConfig } from '../config';

export interface ApiScopes {
  read: string;
  write: string;
}

export const apiScopesOf = (c: PortalConfig): ApiScopes => ({
  read: `${c.POLICY_API_APP_ID_URI}/Accounts.Read`,
  write: `${c.POLICY_API_APP_ID_URI}/Accounts.Write`,
});
