import { commonEnvShape, ConfigError, devOnly, env, loadConfig } from '@idp/service-kit';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { loadBrokerConfigDoc, type BrokerConfigDoc } from './registrations/broker-config';

// The broker has no database: the common shape minus the database variables.
const {
  DATABASE_URL: _db,
  MIGRATE_ON_START: _migrate,
  DATABASE_STATEMENT_TIMEOUT_MS: _timeout,
  ...shape
} = commonEnvShape;

/**
 * An https origin (a trailing `/` allowed): the broker appends paths to it (`/{tenant}/oauth2/...`,
 * the SDK's `/certificates/...`), so a path, query, fragment or credentials would send requests
 * (client assertions included) somewhere else than meant.
 */
const httpsOrigin = () =>
  env.url(['https']).refine(
    (v) => {
      const u = new URL(v);
      return !u.username && !u.password && u.pathname === '/' && !u.search && !u.hash;
    },
    {
      message: 'must be an https origin (https://host[:port]), without path, query or credentials',
    },
  );

/** The environment the broker reads; every variable's description feeds the README reference. */
export const envSchema = z.object({
  ...shape,
  PORT: env
    .port(3003)
    .describe('HTTP port for /healthz, /readyz and /metrics only (tokens are served over NATS).'),
  KEY_VAULT_URL: httpsOrigin().describe(
    'Vault holding the client certificates, e.g. https://<vault>.vault.azure.net.',
  ),
  ENTRA_AUTHORITY_HOST: httpsOrigin()
    .optional()
    .describe(
      "Where tokens are redeemed (/{tenant}/oauth2/v2.0/token), also the assertion's aud; default AZURE_AUTHORITY_HOST, else https://login.microsoftonline.com.",
    ),
  AZURE_CREDENTIAL: devOnly(
    z
      .enum(['workload', 'developer'])
      .default('workload')
      .describe(
        'How the broker reaches Key Vault: workload (WorkloadIdentityCredential, the cluster) or developer (Azure CLI, then Azure Developer CLI, then Azure PowerShell: the first one signed in).',
      ),
    {
      why: "the developer chain (az login, environment) is for a developer's machine; pods use workload identity",
      enabled: (v) => v === 'developer',
    },
  ),
  AZURE_AUTHORITY_HOST: httpsOrigin()
    .optional()
    .describe(
      'Authority for the workload identity exchange, injected by the AKS webhook (SDK default https://login.microsoftonline.com); instance discovery is switched off for a non-Microsoft host such as dev-azure.',
    ),
  AZURE_TENANT_ID: z
    .string()
    .min(1)
    .optional()
    .describe(
      "The broker's identity tenant, injected by the AKS workload identity webhook; required with AZURE_CREDENTIAL=workload.",
    ),
  AZURE_CLIENT_ID: z
    .string()
    .min(1)
    .optional()
    .describe(
      "The broker app's client id (federated credential on the service account), injected by the webhook; required with AZURE_CREDENTIAL=workload.",
    ),
  AZURE_FEDERATED_TOKEN_FILE: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Path of the projected service-account token, injected by the webhook and re-read by the SDK; required with AZURE_CREDENTIAL=workload.',
    ),
  KEY_VAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION: devOnly(
    env
      .bool(false)
      .describe(
        'Development only: lets the SDK talk to a vault on localhost (whose challenge names vault.azure.net); logged as a warning when on.',
      ),
    {
      why: 'only a stand-in vault outside vault.azure.net needs the challenge resource check off',
    },
  ),
  TOKEN_BROKER_CONFIG: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Registrations and caller policy as inline JSON (set exactly one of this and TOKEN_BROKER_CONFIG_FILE).',
    ),
  TOKEN_BROKER_CONFIG_FILE: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Path of the registrations and caller policy JSON, e.g. a mounted ConfigMap (instead of TOKEN_BROKER_CONFIG).',
    ),
  // Upper bounds: a typo (1000000 attempts, a 27 h delay) would hold every waiting request.
  REPLICATION_RETRY_ATTEMPTS: env
    .int(5, 0, 20)
    .describe(
      'Retries for AADSTS700016 (app registration not yet replicated to the tenant); 0-20.',
    ),
  UPSTREAM_RETRY_ATTEMPTS: env
    .int(4, 0, 10)
    .describe(
      'Retries per acquisition for Entra 5xx/429/network failures and Key Vault 429/5xx; 0-10.',
    ),
  RETRY_BASE_DELAY_MS: env
    .int(500, 1, 60_000)
    .describe(
      'First backoff step in milliseconds (doubles each attempt, jittered); 1-60000, at most RETRY_MAX_DELAY_MS.',
    ),
  RETRY_MAX_DELAY_MS: env
    .int(30000, 1, 60_000)
    .describe(
      'Backoff cap in milliseconds, 1-60000 (a Retry-After up to 60 s still wins; a longer one fails the request at once).',
    ),
  REFRESH_MARGIN_SECONDS: env
    .int(300, 0, 86_400)
    .describe(
      'Refresh a cached token at least this many seconds before expiry (0-86400); at half its lifetime when that is earlier (1 h tokens: after 30 min).',
    ),
});

export type TokenBrokerEnv = z.infer<typeof envSchema>;
export type TokenBrokerConfig = Omit<TokenBrokerEnv, 'ENTRA_AUTHORITY_HOST'> & {
  ENTRA_AUTHORITY_HOST: string;
  brokerDoc: BrokerConfigDoc;
};

/** Injection token of the broker's parsed configuration (see TokenBrokerConfig). */
export const TOKEN_BROKER_CONFIG = Symbol('TOKEN_BROKER_CONFIG');

const PUBLIC_CLOUD_AUTHORITY = 'https://login.microsoftonline.com';

/** Environment first, then the registrations document it points at; both fail naming the variable. */
export function loadTokenBrokerConfig(e: NodeJS.ProcessEnv = process.env): TokenBrokerConfig {
  const problems = crossChecks(e);
  let c: TokenBrokerEnv;
  try {
    c = loadConfig(envSchema, e);
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
  const base = Number(e.RETRY_BASE_DELAY_MS ?? 500);
  const cap = Number(e.RETRY_MAX_DELAY_MS ?? 30000);
  if (base > cap)
    problems.push(`RETRY_BASE_DELAY_MS: must not exceed RETRY_MAX_DELAY_MS (${base} > ${cap})`);
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

/**
 * At start, with workload identity: the projected service-account token must be there (kubelet
 * mounts it before the container starts). Without it the broker would run, never ready, with
 * only a sign-in warning in the log. Kept out of loadTokenBrokerConfig, which checks the
 * environment alone (tests load it without the file).
 */
export function checkFederatedTokenFile(c: TokenBrokerEnv): void {
  if (c.AZURE_CREDENTIAL !== 'workload' || !c.AZURE_FEDERATED_TOKEN_FILE) return;
  let token: string;
  try {
    token = readFileSync(c.AZURE_FEDERATED_TOKEN_FILE, 'utf8');
  } catch (e) {
    throw new ConfigError([
      `AZURE_FEDERATED_TOKEN_FILE: cannot read file (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
    ]);
  }
  if (token.trim() === '') throw new ConfigError(['AZURE_FEDERATED_TOKEN_FILE: the file is empty']);
}
