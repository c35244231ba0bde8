// Behind an ingress (kind: https://login.identity.localtest.me) the identity stand-in must
// name the ingress origin in every URL and issuer, not its own listen address and port.
import { decodeJwt } from 'jose';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDevAzure, type DevAzure } from '../../src';
import { seed } from '../support/harness';

const PUBLIC = 'https://login.identity.localtest.me';
let azure: DevAzure;
let dataDir: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-azure-public-url-'));
  azure = await startDevAzure({ dataDir, keyVault: false, publicUrl: `${PUBLIC}/` });
});
afterAll(async () => {
  await azure?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('dev-azure behind an ingress (publicUrl)', () => {
  it('reports the public origin as its identity URL and authority host', () => {
    expect(azure.identityUrl).toBe(PUBLIC);
    expect(azure.authorityHost).toBe(PUBLIC);
    expect(azure.clusterIssuer.issuerUrl.startsWith(`${PUBLIC}/`)).toBe(true);
  });

  it('names the public origin in B2C and Entra ID metadata and in issued tokens', async () => {
    // Fetched where the ingress would forward to.
    const get = async (p: string) =>
      (await (await fetch(`${azure.identityListenUrl}${p}`)).json()) as Record<string, string>;
    const b2cMeta = await get(
      `/${seed.contoso.name}.onmicrosoft.com/B2C_1_signupsignin/v2.0/.well-known/openid-configuration`,
    );
    expect(b2cMeta.issuer).toBe(`${PUBLIC}/${seed.contoso.id}/v2.0/`);
    expect(b2cMeta.authorization_endpoint?.startsWith(`${PUBLIC}/`)).toBe(true);
    expect(b2cMeta.jwks_uri?.startsWith(`${PUBLIC}/`)).toBe(true);
    const entraMeta = await get(`/${seed.fabrikam.id}/v2.0/.well-known/openid-configuration`);
    expect(entraMeta.issuer).toBe(`${PUBLIC}/${seed.fabrikam.id}/v2.0`);
    expect(entraMeta.token_endpoint).toBe(`${PUBLIC}/${seed.fabrikam.id}/oauth2/v2.0/token`);

    const b2c = await azure.identity.issueUserTokens({
      tenant: seed.contoso.name,
      flow: 'B2C_1_signupsignin',
      clientId: seed.contoso.portal.clientId,
      userEmail: seed.contoso.alice.email,
      scopes: [],
    });
    expect(decodeJwt(b2c.id_token ?? '').iss).toBe(`${PUBLIC}/${seed.contoso.id}/v2.0/`);
  });

  it('its Key Vault reads signing keys where the identity stand-in listens, not through the public host', async () => {
    // .invalid never resolves: a vault that fetched its JWKS through the public URL would fail here.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-azure-public-url-kv-'));
    const behind = await startDevAzure({
      dataDir: dir,
      publicUrl: 'https://login.identity.invalid',
    });
    try {
      const token = await behind.identity.issueAppAccessToken({
        tenant: seed.fabrikam.name,
        clientId: seed.fabrikam.tokenBroker.clientId,
        scope: 'https://vault.azure.net/.default',
      });
      const res = await fetch(`${behind.keyVaultUrl}/certificates/policy-daemon?api-version=7.5`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      // The challenge sends clients to the public authority.
      const anonymous = await fetch(
        `${behind.keyVaultUrl}/certificates/policy-daemon?api-version=7.5`,
      );
      expect(anonymous.headers.get('www-authenticate')).toContain(
        'authorization="https://login.identity.invalid/',
      );
    } finally {
      await behind.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a public URL that is not an https origin', async () => {
    for (const bad of [
      'http://login.example.test',
      'https://login.example.test/path',
      'https://user:pw@login.example.test',
      'login.example.test',
    ]) {
      await expect(startDevAzure({ dataDir, keyVault: false, publicUrl: bad })).rejects.toThrow(
        /publicUrl must be an https origin/,
      );
    }
  });

  it('the CLI names DEV_AZURE_PUBLIC_URL and the problem, without a stack trace', () => {
    const r = spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'dist', 'main.js')], {
      env: {
        PATH: process.env.PATH,
        DEV_AZURE_PUBLIC_URL: 'https://login.example.test/b2c',
        DEV_AZURE_DATA_DIR: dataDir,
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('DEV_AZURE_PUBLIC_URL: must be an https origin');
    expect(r.stderr).toContain('got "https://login.example.test/b2c"');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
