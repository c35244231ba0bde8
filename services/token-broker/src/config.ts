import { commonEnvShape, ConfigError, devOnly, env, loadConfig } from '@idp/service-kit';
import { z } from 'zod';
import { loadBrokerConfigDoc, type BrokerConfigDoc } from './registrations/broker-config';

// The broker has no database: the common shape minus DATABASE_URL / MIGRATE_ON_START.
const { DATABASE_URL: _db, MIGRATE_ON_START: _migrate, ...shape } = commonEnvShape;

export const tokenBrokerEnv = z.object({
  ...shape,
  PORT: env.port(3003),
  /** Vault holding the client certificates, e.g. https://kv-idp.vault.azure.net. */
  KEY_VAULT_URL: env.url(['https']),
  /** Entra authority used for the token endpoint (/{tenant}/oauth2/v2.0/token); default AZURE_AUTHORITY_HOST, else the public cloud. */
  ENTRA_AUTHORITY_HOST: env.url(['https']).optional(),
  /** How the broker reaches Key Vault: workload identity (the cluster) or the developer chain. */
  AZURE_CREDENTIAL: devOnly(z.enum(['workload', 'developer']).default('workload'), {
    why: "the developer chain (az login, environment) is for a developer's machine; pods use workload identity",
    enabled: (v) => v === 'developer',
  }),
  /** Authority for the workload identity exchange; the AKS webhook injects it. */
  AZURE_AUTHORITY_HOST: env.url(['https']).optional(),
  AZURE_TENANT_ID: z.string().min(1).optional(),
  AZURE_CLIENT_ID: z.string().min(1).optional(),
  AZURE_FEDERATED_TOKEN_FILE: z.string().min(1).optional(),
  /** A vault on localhost cannot answer a challenge for vault.azure.net; refused in production. */
  KEY_VAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION: devOnly(env.bool(false), {
    why: 'only a stand-in vault outside vault.azure.net needs the challenge resource check off',
  }),
  /** Registrations and caller policy: inline JSON, or a file path (one of them). */
  TOKEN_BROKER_CONFIG: z.string().min(1).optional(),
  TOKEN_BROKER_CONFIG_FILE: z.string().min(1).optional(),
  /** Attempts for AADSTS700016 (app not yet replicated to this tenant). */
  REPLICATION_RETRY_ATTEMPTS: env.int(5, 0),
  /** Attempts for Entra 5xx/429 and Key Vault 429, per acquisition. */
  UPSTREAM_RETRY_ATTEMPTS: env.int(4, 0),
  RETRY_BASE_DELAY_MS: env.int(500, 1),
  RETRY_MAX_DELAY_MS: env.int(30000, 1),
  /** Lower bound on how long before expiry a cached token is refreshed. */
  REFRESH_MARGIN_SECONDS: env.int(300, 0),
});

export type TokenBrokerEnv = z.infer<typeof tokenBrokerEnv>;
export type TokenBrokerConfig = Omit<TokenBrokerEnv, 'ENTRA_AUTHORITY_HOST'> & {
  ENTRA_AUTHORITY_HOST: string;
  brokerDoc: BrokerConfigDoc;
};

const PUBLIC_CLOUD_AUTHORITY = 'https://login.microsoftonline.com';

/** Environment first, then the registrations document it points at; both fail naming the variable. */
export function loadTokenBrokerConfig(e: NodeJS.ProcessEnv = process.env): TokenBrokerConfig {
  const problems = crossChecks(e);
  let c: TokenBrokerEnv;
  try {
    c = loadConfig(tokenBrokerEnv, e);
  } catch (err) {
    throw err instanceof ConfigError ? new ConfigError([...err.problems, ...problems]) : err;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  // Same cloud as the workload identity unless told otherwise (sovereign clouds, dev-azure).
  const authority = c.ENTRA_AUTHORITY_HOST ?? c.AZURE_AUTHORITY_HOST ?? PUBLIC_CLOUD_AUTHORITY;
  return { ...c, ENTRA_AUTHORITY_HOST: authority, brokerDoc: loadBrokerConfigDoc(c) };
}

/** Rules across variables, reported together with the per-variable ones. */
function crossChecks(e: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  if (!e.TOKEN_BROKER_CONFIG === !e.TOKEN_BROKER_CONFIG_FILE) {
    problems.push(
      'TOKEN_BROKER_CONFIG: set exactly one of TOKEN_BROKER_CONFIG (JSON) or TOKEN_BROKER_CONFIG_FILE (path)',
    );
  }
  if ((e.AZURE_CREDENTIAL ?? 'workload') === 'workload') {
    for (const k of ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_FEDERATED_TOKEN_FILE']) {
      if (!e[k])
        problems.push(
          `${k}: is required but not set (the AKS workload identity webhook injects it)`,
        );
    }
  }
  return problems;
}
