// Local stand-in for Azure Key Vault's data plane, for development and tests only: what the
// token broker calls (get a certificate, sign with its key, create a new version to rotate)
// with Azure's challenge auth, RBAC, throttling and error shapes.
export { startKeyVault, SUPPORTED_API_VERSIONS } from './server';
export { defaultIssuers, VAULT_RESOURCE } from './auth';
export type {
  KeyVaultHandle,
  KeyVaultOptions,
  KeyVaultRole,
  KeyVaultStats,
  PublicCertificate,
  RoleAssignment,
  SeedCertificate,
} from './options';
