// The token-broker pattern end to end: workload identity -> Key Vault token
// -> the vault signs a client assertion for an app whose certificate lives
// in the vault (private key never leaves it) -> app-only tokens, including
// cross-tenant. Everything through the real SDKs.
import { CertificateClient } from '@azure/keyvault-certificates';
import { CryptographyClient } from '@azure/keyvault-keys';
import { ClientAssertionCredential, WorkloadIdentityCredential } from '@azure/identity';
import { decodeJwt } from 'jose';
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { seed, startTestAzure, type TestAzure } from '../support/harness';

const { fabrikam, contoso, northwind } = seed;
let t: TestAzure;
let tmp: string;
let broker: WorkloadIdentityCredential;

beforeAll(async () => {
  t = await startTestAzure({ keyVault: true });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-azure-kv-'));
  const file = path.join(tmp, 'token');
  await t.azure.clusterIssuer.writeServiceAccountToken(file, 'identity-platform', 'token-broker');
  broker = new WorkloadIdentityCredential({
    tenantId: fabrikam.id,
    clientId: fabrikam.tokenBroker.clientId,
    tokenFilePath: file,
    authorityHost: t.azure.authorityHost,
    disableInstanceDiscovery: true,
  });
});
afterAll(async () => {
  await t.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const kvOptions = { disableChallengeResourceVerification: true };

/** Builds a client assertion for `clientId` signed by the vault key behind certificate `policy-daemon`. */
async function vaultSignedAssertion(clientId: string, tokenEndpoint: string): Promise<string> {
  const certs = new CertificateClient(t.azure.keyVaultUrl, broker, kvOptions);
  const cert = await certs.getCertificate('policy-daemon');
  const der = Buffer.from(cert.cer ?? new Uint8Array());
  const now = Math.floor(Date.now() / 1000);
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64({ alg: 'PS256', typ: 'JWT', 'x5t#S256': createHash('sha256').update(der).digest('base64url') })}.${b64(
    {
      aud: tokenEndpoint,
      iss: clientId,
      sub: clientId,
      jti: randomUUID(),
      nbf: now,
      iat: now,
      exp: now + 600,
    },
  )}`;
  const crypto = new CryptographyClient(cert.keyId ?? '', broker, kvOptions);
  const signed = await crypto.sign('PS256', createHash('sha256').update(input).digest());
  return `${input}.${Buffer.from(signed.result).toString('base64url')}`;
}

describe('Key Vault-held certificate credentials (token broker pattern)', () => {
  it('gets tokens for the policy API as policy-daemon-kv, signing the assertion in the vault', async () => {
    const cred = new ClientAssertionCredential(
      contoso.id,
      fabrikam.policyDaemonKv.clientId,
      () =>
        vaultSignedAssertion(
          fabrikam.policyDaemonKv.clientId,
          `${t.azure.identityUrl}/${contoso.id}/oauth2/v2.0/token`,
        ),
      { authorityHost: t.azure.authorityHost, disableInstanceDiscovery: true },
    );
    const { token } = await cred.getToken('api://policy-api/.default');
    expect(decodeJwt(token)).toMatchObject({
      aud: contoso.policyApi.clientId,
      iss: `${t.azure.identityUrl}/${contoso.id}/v2.0/`,
      appid: fabrikam.policyDaemonKv.clientId,
      oid: contoso.policyDaemonKvSp,
      roles: ['Policies.Read.All'],
      azpacr: '2',
    });
  });

  it('works cross-tenant (Northwind) with the same vault certificate', async () => {
    const cred = new ClientAssertionCredential(
      northwind.id,
      fabrikam.policyDaemonKv.clientId,
      () =>
        vaultSignedAssertion(
          fabrikam.policyDaemonKv.clientId,
          `${t.azure.identityUrl}/${northwind.id}/oauth2/v2.0/token`,
        ),
      { authorityHost: t.azure.authorityHost, disableInstanceDiscovery: true },
    );
    const { token } = await cred.getToken('api://northwind-claims/.default');
    expect(decodeJwt(token)).toMatchObject({
      aud: northwind.claimsApi.clientId,
      tid: northwind.id,
      oid: northwind.policyDaemonKvSp,
      roles: ['Claims.Read.All'],
    });
  });

  it('refuses an assertion signed by another key with the vault certificate thumbprint', async () => {
    const endpoint = `${t.azure.identityUrl}/${contoso.id}/oauth2/v2.0/token`;
    const real = await vaultSignedAssertion(fabrikam.policyDaemonKv.clientId, endpoint);
    const [h, p] = real.split('.');
    const forged = `${h}.${p}.${Buffer.alloc(256, 7).toString('base64url')}`;
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: fabrikam.policyDaemonKv.clientId,
        scope: 'api://policy-api/.default',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: forged,
      }).toString(),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error_description: string }).error_description).toMatch(
      /^AADSTS700027: Client assertion failed signature validation\./,
    );
  });
});
