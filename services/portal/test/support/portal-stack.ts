import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevAzure, type DevAzure, type DevAzureOptions } from '@idp/dev-azure';
import { startPostgres, type TestPostgres } from '@idp/testing';
import { startPortalInProcess, type InProcessPortal } from './portal-app';

export interface PortalStack<Api> {
  pg: TestPostgres;
  azure: DevAzure;
  api: Api;
  portal: InProcessPortal;
}

/**
 * The portal in process against the identity stand-in (no Key Vault) and a policy API stand-in,
 * over real PostgreSQL (no NATS: the portal uses none): registers the suite's beforeAll/afterAll and returns the stack,
 * whose fields are set once beforeAll has run. `env` gives the portal's identity settings.
 */
export function usePortalStack<Api extends { url: string; close(): Promise<void> }>(o: {
  startApi: () => Promise<Api>;
  env: (identityUrl: string, apiUrl: string) => Record<string, string>;
  /** dev-azure's configuration, when the seed's tenants are not enough. */
  azureConfig?: DevAzureOptions['config'];
  /** The URL the portal connects with (e.g. through a TCP hop); default: the database's own. */
  databaseUrl?: (url: string) => Promise<string>;
}): PortalStack<Api> {
  const s: Partial<PortalStack<Api>> = {};
  let dataDir = '';
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'portal-stack-'));
    [s.pg, s.azure, s.api] = await Promise.all([
      startPostgres(),
      startDevAzure({
        dataDir,
        keyVault: false,
        ...(o.azureConfig ? { config: o.azureConfig } : {}),
      }),
      o.startApi(),
    ]);
    const databaseUrl = await s.pg.createDatabase();
    s.portal = await startPortalInProcess({
      ...o.env(s.azure.identityUrl, s.api.url),
      DATABASE_URL: (await o.databaseUrl?.(databaseUrl)) ?? databaseUrl,
    });
  }, 60000);
  afterAll(async () => {
    await s.portal?.close();
    await Promise.all([s.pg?.stop(), s.azure?.stop(), s.api?.close()]);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  return s as PortalStack<Api>;
}
