// CLI: node dev-azure/dist/main.js — starts the identity and Key Vault
// stand-ins on fixed local ports and prints what clients need.
//   DEV_AZURE_HOST            default localhost
//   DEV_AZURE_IDENTITY_PORT   default 9443
//   DEV_AZURE_KEYVAULT_PORT   default 9444
//   DEV_AZURE_DATA_DIR        default <repo>/.dev/dev-azure
//   DEV_AZURE_CONFIG          default dev-azure/config/dev-azure.json
//   DEV_AZURE_KEYVAULT        "false" to run identity only
//   DEV_AZURE_SA_TOKEN_FILE   if set, keep a token-broker service-account token there
//   DEV_AZURE_SERVICE_ACCOUNT "<namespace>:<name>" for that token (default identity-platform:token-broker)
import path from 'node:path';
import { DevAzureConfigError, startDevAzure } from './index';

const repoRoot = path.resolve(__dirname, '..', '..');

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port number, got "${raw}"`);
  return n;
}

async function main(): Promise<void> {
  const dataDir = path.resolve(process.env.DEV_AZURE_DATA_DIR ?? path.join(repoRoot, '.dev', 'dev-azure'));
  const azure = await startDevAzure({
    configPath: process.env.DEV_AZURE_CONFIG ? path.resolve(process.env.DEV_AZURE_CONFIG) : undefined,
    dataDir,
    host: process.env.DEV_AZURE_HOST || 'localhost',
    identityPort: port('DEV_AZURE_IDENTITY_PORT', 9443),
    keyVaultPort: port('DEV_AZURE_KEYVAULT_PORT', 9444),
    keyVault: process.env.DEV_AZURE_KEYVAULT !== 'false',
  });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`dev-azure identity:  ${azure.identityUrl}`);
  if (azure.keyVaultUrl) out(`dev-azure key vault: ${azure.keyVaultUrl}`);
  out(`data dir:            ${dataDir}`);
  for (const t of azure.config.tenants) {
    out(`tenant ${t.name} (${t.type}) ${t.id}: ${azure.identityUrl}/${t.type === 'b2c' ? `${t.name}.onmicrosoft.com/<flow>` : t.id}/v2.0/.well-known/openid-configuration`);
  }
  for (const [name, c] of Object.entries(azure.clusterIssuers)) out(`cluster issuer ${name}: ${c.issuerUrl}`);

  const tokenFile = process.env.DEV_AZURE_SA_TOKEN_FILE;
  if (tokenFile) {
    const [ns, sa] = (process.env.DEV_AZURE_SERVICE_ACCOUNT ?? 'identity-platform:token-broker').split(':');
    const file = path.resolve(tokenFile);
    await azure.clusterIssuer.writeServiceAccountToken(file, ns, sa);
    out(`service-account token for ${ns}/${sa}: ${file} (refreshed before expiry)`);
  }
  out('Node clients need NODE_EXTRA_CA_CERTS=<repo>/.dev/ca/ca.pem (see scripts/with-dev-ca.mjs).');

  const stop = (signal: string) => {
    out(`dev-azure: ${signal}, stopping`);
    azure.stop().then(
      () => process.exit(0),
      (err: Error) => {
        console.error(`dev-azure: stop failed: ${err.message}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err instanceof DevAzureConfigError ? err.message : `dev-azure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
