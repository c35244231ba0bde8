#!/usr/bin/env node
// The stand-ins' configuration for a kind install, derived from the seed
// (dev-azure/config/dev-azure.json):
//  - the token broker's app trusts kind's own service-account issuer for the ServiceAccount the
//    chart creates (a federated identity credential, as `az identity federated-credential
//    create` does on AKS), so the projected token the kubelet mounts is accepted;
//  - the portal app accepts the ingress origin as reply and logout URL (B2C refuses sign-in
//    with any redirect_uri that is not registered).
//   node k8s/kind/dev-azure-config.mjs <seed.json> <out.json> <issuer> <namespace>:<serviceaccount> <portal origin>
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/**
 * @param {any} seed parsed dev-azure.json
 * @param {{ issuer: string, serviceAccount: string, portalOrigin: string }} o
 *   serviceAccount "<namespace>:<name>"; portalOrigin e.g. https://identity.localtest.me
 */
export function kindDevAzureConfig(seed, { issuer, serviceAccount, portalOrigin }) {
  const config = structuredClone(seed);
  const [ns, sa] = serviceAccount.split(':');
  if (!ns || !sa)
    throw new Error(`service account must be "<namespace>:<name>", got "${serviceAccount}"`);
  if (!/^https:\/\/[^/]/.test(issuer))
    throw new Error(`issuer must be an https URL, got "${issuer}"`);
  const origin = new URL(portalOrigin).origin;
  const subject = `system:serviceaccount:${ns}:${sa}`;
  let federated = 0;
  let portals = 0;
  for (const tenant of config.tenants ?? []) {
    for (const app of tenant.apps ?? []) {
      // Apps whose federated credentials name this ServiceAccount (in any namespace).
      const creds = app.federatedCredentials ?? [];
      if (
        creds.some(
          (f) =>
            typeof f.subject === 'string' &&
            f.subject.endsWith(`:${sa}`) &&
            f.subject.startsWith('system:serviceaccount:'),
        )
      ) {
        const mine = {
          name: 'kind',
          description: 'kind service-account issuer',
          issuer,
          subject,
          audiences: ['api://AzureADTokenExchange'],
        };
        app.federatedCredentials = [...creds.filter((f) => f.name !== 'kind'), mine];
        federated++;
      }
      if ((app.redirectUris ?? []).some((u) => u.endsWith('/auth/redirect'))) {
        app.redirectUris = [...new Set([...app.redirectUris, `${origin}/auth/redirect`])];
        app.logoutUris = [...new Set([...(app.logoutUris ?? []), `${origin}/`])];
        portals++;
      }
    }
  }
  if (federated === 0)
    throw new Error(`no app has a federated credential for a service account named "${sa}"`);
  if (portals === 0) throw new Error('no app has an /auth/redirect reply URL (the portal)');
  return config;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [seedFile, out, issuer, serviceAccount, portalOrigin] = process.argv.slice(2);
  if (!portalOrigin) {
    console.error(
      'usage: dev-azure-config.mjs <seed.json> <out.json> <issuer> <namespace>:<serviceaccount> <portal origin>',
    );
    process.exit(2);
  }
  const config = kindDevAzureConfig(JSON.parse(readFileSync(seedFile, 'utf8')), {
    issuer,
    serviceAccount,
    portalOrigin,
  });
  writeFileSync(out, `${JSON.stringify(config, null, 2)}\n`);
}
