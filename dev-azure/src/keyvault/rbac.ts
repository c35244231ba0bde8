// Azure RBAC for the Key Vault data plane: built-in roles as sets of data
// actions, assignments scoped to the vault or to one object.
import { forbiddenByRbac } from './errors';
import type { KeyVaultRole, RoleAssignment } from './options';

export type DataAction =
  'keys/read' | 'keys/sign/action' | 'certificates/read' | 'certificates/create/action';

// Mirrors the dataActions of Azure's built-in roles, limited to what this vault implements.
const ROLE_ACTIONS: Record<KeyVaultRole, readonly DataAction[] | 'all'> = {
  'Key Vault Administrator': 'all',
  'Key Vault Crypto User': ['keys/read', 'keys/sign/action'],
  'Key Vault Certificates Officer': ['certificates/read', 'certificates/create/action'],
  'Key Vault Reader': ['keys/read', 'certificates/read'],
};

export interface Caller {
  /** appid / azp / oid claims of app tokens (any may be the assignment's principalId); oid alone for user tokens. */
  principalIds: string[];
  /** For refusal messages: ids only, never the token. */
  description: string;
}

/** The object an operation touches: `{collection}/{name}`. */
export interface Target {
  collection: 'keys' | 'certificates';
  name: string;
}

const normalizeScope = (scope: string): string => scope.replace(/^\/+|\/+$/g, '').toLowerCase();

function scopeCovers(scope: string | undefined, target: Target): boolean {
  if (scope === undefined || normalizeScope(scope) === '') return true;
  return normalizeScope(scope) === `${target.collection}/${target.name.toLowerCase()}`;
}

export function isAllowed(
  assignments: readonly RoleAssignment[],
  caller: Caller,
  action: DataAction,
  target: Target,
): boolean {
  // Object ids and client ids are GUIDs: compare them case-insensitively, as Azure does.
  const ids = caller.principalIds.map((id) => id.toLowerCase());
  return assignments.some((a) => {
    if (!ids.includes(a.principalId.toLowerCase()) || !scopeCovers(a.scope, target)) return false;
    const actions = ROLE_ACTIONS[a.role];
    return actions === 'all' || actions.includes(action);
  });
}

export function authorize(
  assignments: readonly RoleAssignment[],
  caller: Caller,
  action: DataAction,
  target: Target,
): void {
  if (!isAllowed(assignments, caller, action, target)) {
    const resource = `/${target.collection}/${target.name}`;
    throw forbiddenByRbac(caller.description, `Microsoft.KeyVault/vaults/${action}`, resource);
  }
}
