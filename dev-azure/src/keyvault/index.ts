// Local stand-in for Azure Key Vault's data plane, for development and tests only: what the
// token broker calls (get a certificate, sign with its key, create a new version to rotate)
// with Azure's challenge auth, RBAC, throttling and error shapes.
export { startKeyVault } from './server';
export type { KeyVaultHandle, KeyVaultOptions, RoleAssignment } from './options';
