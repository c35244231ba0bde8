// Local Azure stand-ins for development and tests (never in production
// images): identity (B2C user flows, Entra ID tenants, workload-identity
// cluster issuer) and Key Vault, speaking Azure's wire protocols so the real
// Azure SDKs work against them with only endpoint settings changed.
import { ensureDevCa } from '@idp/dev-ca';
import { X509Certificate } from 'node:crypto';
import { resolveConfig } from './config/load';
import { findTenant, resolvePrincipalIds } from './config/references';
import type { DevAzureConfig, DevAzureConfigInput } from './config/schema';
import { startIdentityServer, type IdentityServer } from './identity/server';
import type { IdentityTestApi } from './identity/test-api';
import { startKeyVault, type KeyVaultHandle } from './keyvault';
import { httpsOrigin } from './util/https-origin';

export {
  DevAzureConfigError,
  loadDevAzureConfig,
  parseDevAzureConfig,
  seedConfigPath,
} from './config/load';
export type {
  AppConfig,
  DevAzureConfig,
  DevAzureConfigInput,
  KeyVaultConfig,
  TenantConfig,
  UserFlowConfig,
} from './config/schema';
export type {
  IdentityTestApi,
  IssueExternalTokenOptions,
  IssueUserTokenOptions,
  TestUser,
} from './identity/test-api';
export type { EntraTokenResponse } from './identity/external/tokens';
export type { B2CTokenResponse } from './identity/tokens/user-token';
export { ensureDevCa, type DevCaFiles } from '@idp/dev-ca';
export { TOKEN_EXCHANGE_AUDIENCE } from './identity/cluster/cluster-issuers';

export interface DevAzureOptions {
  /** JSON configuration file; default dev-azure/config/dev-azure.json. Ignored when `config` is given. */
  configPath?: string;
  config?: DevAzureConfigInput;
  /** Persisted state (users, keys, refresh tokens, vault contents). */
  dataDir: string;
  /** Listen address, default 'localhost'. */
  host?: string;
  /** Host name in URLs and token issuers when it differs from the listen address (e.g. listening on 0.0.0.0 in a cluster). */
  publicHost?: string;
  /**
   * Origin browsers and clients use when the identity stand-in sits behind a proxy or ingress
   * (e.g. https://login.identity.localtest.me on kind): URLs and issuers use it instead of
   * https://<publicHost>:<identityPort>. An https origin without path.
   */
  publicUrl?: string;
  /** 0 = a free port (default). */
  identityPort?: number;
  keyVaultPort?: number;
  /** Default: the dev CA's localhost certificate (ensureDevCa()). `caPem` lets the stand-in trust its own issuers. */
  tls?: { certPem: string; keyPem: string; caPem?: string };
  /** Start the Key Vault stand-in (default true, when the config has a keyVault block). */
  keyVault?: boolean;
}

export interface ClusterIssuerHandle {
  /** e.g. https://localhost:PORT/local/ (what federated credentials name). */
  issuerUrl: string;
  /** Writes a projected service-account token to `file` and refreshes it before expiry until stop(). */
  writeServiceAccountToken(file: string, ns: string, sa: string): Promise<void>;
  /** A service-account token, for tests that pass assertions directly. */
  mintServiceAccountToken(
    ns: string,
    sa: string,
    o?: { audiences?: string[]; lifetimeSeconds?: number },
  ): string;
}

export interface DevAzure {
  /** https://localhost:PORT (or publicUrl) */
  identityUrl: string;
  /** Where the identity stand-in listens: what a proxy or ingress in front of it forwards to. */
  identityListenUrl: string;
  /** https://localhost:PORT of the vault ('' when not started). */
  keyVaultUrl: string;
  /** Same as identityUrl: the AZURE_AUTHORITY_HOST / authorityHost setting. */
  authorityHost: string;
  config: DevAzureConfig;
  identity: IdentityTestApi;
  /** The first cluster issuer of the configuration. */
  clusterIssuer: ClusterIssuerHandle;
  /** Every cluster issuer by name. */
  clusterIssuers: Record<string, ClusterIssuerHandle>;
  /** The vault's handle (stats, rate limit, certificates) when started. */
  keyVault?: KeyVaultHandle;
  stop(): Promise<void>;
}

export async function startDevAzure(o: DevAzureOptions): Promise<DevAzure> {
  const config = resolveConfig(o);
  const host = o.host ?? 'localhost';
  const publicUrl = o.publicUrl === undefined ? undefined : httpsOrigin('publicUrl', o.publicUrl);
  let tls = o.tls;
  if (!tls) {
    const names = [host, o.publicHost ?? host, ...(publicUrl ? [new URL(publicUrl).hostname] : [])];
    const ca = await ensureDevCa({
      hosts: [...new Set(names)].filter((h) => h !== '0.0.0.0' && h !== '::'),
    });
    tls = { certPem: ca.certPem, keyPem: ca.keyPem, caPem: ca.caPem };
  }
  const identity = await startIdentityServer({
    config,
    dataDir: o.dataDir,
    host,
    publicHost: o.publicHost,
    publicUrl,
    port: o.identityPort ?? 0,
    tls,
    caPem: tls.caPem,
  });
  let keyVault: KeyVaultHandle | undefined;
  try {
    if (o.keyVault !== false && config.keyVault)
      keyVault = await startVault(config, identity, {
        host,
        port: o.keyVaultPort ?? 0,
        tls,
        dataDir: o.dataDir,
      });
  } catch (err) {
    await identity.stop();
    throw err;
  }

  const clusters = identity.context.clusters;
  const handle = (name: string): ClusterIssuerHandle => ({
    issuerUrl: clusters.issuerUrl(name) ?? '',
    writeServiceAccountToken: (file, ns, sa) => clusters.writeToken(name, file, ns, sa),
    mintServiceAccountToken: (ns, sa, mo) => clusters.mint(name, ns, sa, mo),
  });
  const clusterIssuers = Object.fromEntries(
    config.clusterIssuers.map((c) => [c.name, handle(c.name)]),
  );
  const first = config.clusterIssuers[0] && clusterIssuers[config.clusterIssuers[0].name];

  return {
    identityUrl: identity.url,
    identityListenUrl: identity.listenUrl,
    keyVaultUrl: keyVault?.url ?? '',
    authorityHost: identity.url,
    config,
    identity: identity.testApi,
    clusterIssuer: first ?? {
      issuerUrl: '',
      writeServiceAccountToken: () => Promise.reject(new Error('no cluster issuer configured')),
      mintServiceAccountToken: () => {
        throw new Error('no cluster issuer configured');
      },
    },
    clusterIssuers,
    keyVault,
    async stop() {
      await Promise.all([identity.stop(), keyVault?.stop()]);
    },
  };
}

async function startVault(
  config: DevAzureConfig,
  identity: IdentityServer,
  o: { host: string; port: number; tls: { certPem: string; keyPem: string }; dataDir: string },
): Promise<KeyVaultHandle> {
  const kv = config.keyVault;
  const tenant = kv && findTenant(config, kv.tenant);
  if (!kv || !tenant) throw new Error('keyVault.tenant does not name a tenant');
  const handle = await startKeyVault({
    host: o.host,
    port: o.port,
    tls: { certPem: o.tls.certPem, keyPem: o.tls.keyPem },
    dataDir: o.dataDir,
    tenantId: tenant.id,
    identityUrl: identity.url,
    // Its own keys: read where the identity stand-in listens, not through the ingress.
    jwksBaseUrl: identity.listenUrl,
    roleAssignments: kv.roleAssignments.flatMap((r) =>
      resolvePrincipalIds(config, r.principal, tenant).map((principalId) => ({
        principalId,
        role: r.role,
        scope: r.scope,
      })),
    ),
    rateLimitPerSecond: kv.rateLimitPerSecond,
    seedCertificates: kv.seedCertificates,
  });
  // App certificates registered by Key Vault name are read from the vault when an assertion needs them.
  identity.setCertificateResolver({
    resolve: async (name) => {
      const cert = handle.certificate(name);
      return cert ? [new X509Certificate(cert.der)] : [];
    },
  });
  return handle;
}
