// CLI: node dev-azure/dist/main.js — starts the identity and Key Vault
// stand-ins on fixed local ports and prints what clients need.
//   DEV_AZURE_HOST            listen address, default localhost
//   DEV_AZURE_PUBLIC_HOST     host name in URLs/issuers if different (e.g. a cluster service name)
//   DEV_AZURE_PUBLIC_URL      origin in identity URLs/issuers when an ingress or proxy fronts the
//                             identity stand-in (e.g. https://login.identity.localtest.me)
//   DEV_AZURE_TLS_CERT_FILE / DEV_AZURE_TLS_KEY_FILE / DEV_AZURE_CA_FILE
//                             use this certificate instead of the dev CA's (@idp/dev-ca)
//   DEV_AZURE_IDENTITY_PORT   default 9443
//   DEV_AZURE_KEYVAULT_PORT   default 9444
//   DEV_AZURE_DATA_DIR        default <repo>/.dev/dev-azure
//   DEV_AZURE_CONFIG          default dev-azure/config/dev-azure.json
//   DEV_AZURE_KEYVAULT        "false" to run identity only
//   DEV_AZURE_SA_TOKEN_FILE   if set, keep a token-broker service-account token there
//   DEV_AZURE_SERVICE_ACCOUNT "<namespace>:<name>" for that token (default identity-platform:token-broker)
import fs from 'node:fs';
import path from 'node:path';
import { DevAzureConfigError, startDevAzure, type DevAzureOptions } from './index';
import { httpsOrigin } from './util/https-origin';

const repoRoot = path.resolve(__dirname, '..', '..');

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new Error(`${name} must be a port number, got "${raw}"`);
  return n;
}

function tlsFromFiles(): DevAzureOptions['tls'] {
  const cert = process.env.DEV_AZURE_TLS_CERT_FILE;
  const key = process.env.DEV_AZURE_TLS_KEY_FILE;
  if (!cert && !key) return undefined;
  if (!cert || !key) throw new Error('set both DEV_AZURE_TLS_CERT_FILE and DEV_AZURE_TLS_KEY_FILE');
  const ca = process.env.DEV_AZURE_CA_FILE;
  return {
    certPem: fs.readFileSync(cert, 'utf8'),
    keyPem: fs.readFileSync(key, 'utf8'),
    caPem: ca ? fs.readFileSync(ca, 'utf8') : undefined,
  };
}

function publicUrlFromEnv(): string | undefined {
  const raw = process.env.DEV_AZURE_PUBLIC_URL;
  if (!raw) return undefined;
  try {
    return httpsOrigin('DEV_AZURE_PUBLIC_URL', raw);
  } catch (e) {
    // Printed like a configuration file mistake: the variable and the problem, no stack.
    throw new DevAzureConfigError('environment', [
      {
        path: ['DEV_AZURE_PUBLIC_URL'],
        message: (e as Error).message.replace(/^DEV_AZURE_PUBLIC_URL /, ''),
      },
    ]);
  }
}

async function main(): Promise<void> {
  const dataDir = path.resolve(
    process.env.DEV_AZURE_DATA_DIR ?? path.join(repoRoot, '.dev', 'dev-azure'),
  );
  const azure = await startDevAzure({
    configPath: process.env.DEV_AZURE_CONFIG
      ? path.resolve(process.env.DEV_AZURE_CONFIG)
      : undefined,
    dataDir,
    host: process.env.DEV_AZURE_HOST || 'localhost',
    publicHost: process.env.DEV_AZURE_PUBLIC_HOST || undefined,
    publicUrl: publicUrlFromEnv(),
    tls: tlsFromFiles(),
    identityPort: port('DEV_AZURE_IDENTITY_PORT', 9443),
    keyVaultPort: port('DEV_AZURE_KEYVAULT_PORT', 9444),
    keyVault: process.env.DEV_AZURE_KEYVAULT !== 'false',
  });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`dev-azure identity:  ${azure.identityUrl}`);
  if (azure.keyVaultUrl) out(`dev-azure key vault: ${azure.keyVaultUrl}`);
  out(`data dir:            ${dataDir}`);
  for (const t of azure.config.tenants) {
    out(
      `tenant ${t.name} (${t.type}) ${t.id}: ${azure.identityUrl}/${t.type === 'b2c' ? `${t.name}.onmicrosoft.com/<flow>` : t.id}/v2.0/.well-known/openid-configuration`,
    );
    if (t.type === 'external') {
      out(
        `  MSAL authority ${azure.identityUrl}/${t.id} (knownAuthorities: ${new URL(azure.identityUrl).host}); stands in for https://${t.subdomain ?? t.name}.ciamlogin.com/`,
      );
    }
  }
  out(`one-time codes (email/SMS): ${azure.identityUrl}/_dev/mailbox`);
  for (const [name, c] of Object.entries(azure.clusterIssuers))
    out(`cluster issuer ${name}: ${c.issuerUrl}`);

  const tokenFile = process.env.DEV_AZURE_SA_TOKEN_FILE;
  if (tokenFile) {
    const [ns = 'identity-platform', sa = 'token-broker'] = (
      process.env.DEV_AZURE_SERVICE_ACCOUNT ?? 'identity-platform:token-broker'
    ).split(':');
    const file = path.resolve(tokenFile);
    await azure.clusterIssuer.writeServiceAccountToken(file, ns, sa);
    out(`service-account token for ${ns}/${sa}: ${file} (refreshed before expiry)`);
    // The app whose federated credential trusts this service account: what the workload needs, as on AKS.
    const subject = `system:serviceaccount:${ns}:${sa}`;
    for (const t of azure.config.tenants) {
      for (const app of t.apps.filter((a) =>
        a.federatedCredentials.some((f) => f.subject === subject),
      )) {
        out(
          `workload identity env for ${app.name}: AZURE_AUTHORITY_HOST=${azure.authorityHost} AZURE_TENANT_ID=${t.id} AZURE_CLIENT_ID=${app.clientId} AZURE_FEDERATED_TOKEN_FILE=${file}`,
        );
      }
    }
  }
  out(
    'Node clients need NODE_EXTRA_CA_CERTS=<dev CA dir>/ca.pem (node scripts/with-dev-ca.mjs <cmd> sets it).',
  );

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
  console.error(
    err instanceof DevAzureConfigError
      ? err.message
      : `dev-azure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
  );
  process.exit(1);
});
