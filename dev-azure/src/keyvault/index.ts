// Local stand-in for Azure Key Vault's data plane (keys, certificates, the
// secret face of certificates), for development and tests only.
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
