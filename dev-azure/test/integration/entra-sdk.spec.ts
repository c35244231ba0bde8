// Entra ID client credentials through the real SDKs: @azure/identity
// (secret, certificate, workload identity) and MSAL Node (certificate).
import {
  ClientCertificateCredential,
  ClientSecretCredential,
  WorkloadIdentityCredential,
} from '@azure/identity';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClientCert, type ClientCert } from '../support/certs';
import { seed, startTestAzure, type TestAzure } from '../support/harness';

const { fabrikam, contoso } = seed;
const CERT_DAEMON = {
  clientId: '6a1f3c2e-8d4b-4e6f-9a7c-1b2d3e4f5a6b',
  oid: '7b2e4d3f-9e5c-4f70-8b8d-2c3e4f5a6b7c',
};
let t: TestAzure;
let cert: ClientCert;
let tmp: string;

beforeAll(async () => {
  cert = await createClientCert('cert-daemon');
  t = await startTestAzure({
    adjust: (cfg) => {
      const fab = cfg.tenants.find((x) => x.name === 'fabrikam');
      fab?.apps?.push({
        name: 'cert-daemon',
        displayName: 'Certificate daemon (test)',
        clientId: CERT_DAEMON.clientId,
        servicePrincipalId: CERT_DAEMON.oid,
        certificates: [{ pem: cert.certPem }],
        grantedAppRoles: [{ resource: 'scim', roles: ['Scim.Admin'] }],
      });
    },
  });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-azure-sa-'));
});
afterAll(async () => {
  await t.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const sdkOptions = () => ({ authorityHost: t.azure.authorityHost, disableInstanceDiscovery: true });

async function verifyEntra(token: string, tenantId: string, audience: string) {
  const jwks = createRemoteJWKSet(
    new URL(`${t.azure.identityUrl}/${tenantId}/discovery/v2.0/keys`),
  );
  return (
    await jwtVerify(token, jwks, { issuer: `${t.azure.identityUrl}/${tenantId}/v2.0`, audience })
  ).payload;
}

describe('Entra ID client credentials with @azure/identity and MSAL', () => {
  it('ClientSecretCredential gets an app-only token with the granted app roles', async () => {
    const cred = new ClientSecretCredential(
      fabrikam.id,
      fabrikam.scimAdmin.clientId,
      fabrikam.scimAdmin.secret,
      sdkOptions(),
    );
    const { token, expiresOnTimestamp } = await cred.getToken('api://scim/.default');
    expect(expiresOnTimestamp).toBeGreaterThan(Date.now());
    const claims = await verifyEntra(token, fabrikam.id, fabrikam.scim.clientId);
    expect(claims).toMatchObject({
      roles: ['Scim.Admin'],
      appid: fabrikam.scimAdmin.clientId,
      azp: fabrikam.scimAdmin.clientId,
      azpacr: '1',
      idtyp: 'app',
      oid: fabrikam.scimAdmin.oid,
      sub: fabrikam.scimAdmin.oid,
      tid: fabrikam.id,
      ver: '2.0',
    });
    expect(typeof claims.uti).toBe('string');
  });

  it('accepts the tenant by name and resolves the resource by client id', async () => {
    const cred = new ClientSecretCredential(
      'fabrikam.onmicrosoft.com',
      fabrikam.scimAdmin.clientId,
      fabrikam.scimAdmin.secret,
      sdkOptions(),
    );
    const { token } = await cred.getToken(`${fabrikam.scim.clientId}/.default`);
    expect(decodeJwt(token)).toMatchObject({ aud: fabrikam.scim.clientId, roles: ['Scim.Admin'] });
  });

  it('issues app-only tokens in the B2C tenant for daemons of the policy API', async () => {
    const cred = new ClientSecretCredential(
      contoso.id,
      contoso.policyDaemon.clientId,
      contoso.policyDaemon.secret,
      sdkOptions(),
    );
    const { token } = await cred.getToken(`${contoso.policyApi.uri}/.default`);
    const jwks = createRemoteJWKSet(
      new URL(`${t.azure.identityUrl}/${contoso.id}/discovery/v2.0/keys`),
    );
    const { payload } = await jwtVerify(token, jwks, {
      issuer: `${t.azure.identityUrl}/${contoso.id}/v2.0/`,
      audience: contoso.policyApi.clientId,
    });
    expect(payload).toMatchObject({
      roles: ['Policies.Read.All'],
      oid: contoso.policyDaemon.oid,
      idtyp: 'app',
    });
  });

  it('ClientCertificateCredential authenticates with a registered certificate (PS256 assertion)', async () => {
    const cred = new ClientCertificateCredential(
      fabrikam.id,
      CERT_DAEMON.clientId,
      { certificate: cert.certPem + cert.keyPem },
      sdkOptions(),
    );
    const { token } = await cred.getToken('api://scim/.default');
    const claims = await verifyEntra(token, fabrikam.id, fabrikam.scim.clientId);
    expect(claims).toMatchObject({
      appid: CERT_DAEMON.clientId,
      azpacr: '2',
      roles: ['Scim.Admin'],
      oid: CERT_DAEMON.oid,
    });
  });

  it('MSAL Node client credentials with a certificate', async () => {
    const app = new ConfidentialClientApplication({
      auth: {
        clientId: CERT_DAEMON.clientId,
        authority: `${t.azure.identityUrl}/${fabrikam.id}`,
        clientCertificate: {
          thumbprintSha256: cert.thumbprintSha256Hex,
          privateKey: cert.keyPem,
          x5c: cert.certPem,
        },
        // A non-Microsoft host must be a known authority (what disableInstanceDiscovery does in @azure/identity).
        knownAuthorities: [new URL(t.azure.identityUrl).host],
      },
    });
    const result = await app.acquireTokenByClientCredential({ scopes: ['api://scim/.default'] });
    expect(result?.accessToken).toBeTruthy();
    expect(decodeJwt(result?.accessToken ?? '')).toMatchObject({
      aud: fabrikam.scim.clientId,
      roles: ['Scim.Admin'],
    });
  });

  it('WorkloadIdentityCredential exchanges the cluster issuer service-account token (explicit options)', async () => {
    const file = path.join(tmp, 'explicit', 'token');
    await t.azure.clusterIssuer.writeServiceAccountToken(file, 'identity-platform', 'token-broker');
    const sa = decodeJwt(fs.readFileSync(file, 'utf8'));
    expect(sa).toMatchObject({
      iss: t.azure.clusterIssuer.issuerUrl,
      sub: 'system:serviceaccount:identity-platform:token-broker',
      aud: ['api://AzureADTokenExchange'],
      'kubernetes.io': { namespace: 'identity-platform', serviceaccount: { name: 'token-broker' } },
    });
    expect((sa.exp ?? 0) - (sa.iat ?? 0)).toBe(3600);

    const cred = new WorkloadIdentityCredential({
      tenantId: fabrikam.id,
      clientId: fabrikam.tokenBroker.clientId,
      tokenFilePath: file,
      ...sdkOptions(),
    });
    const { token } = await cred.getToken('https://vault.azure.net/.default');
    const claims = await verifyEntra(token, fabrikam.id, 'https://vault.azure.net');
    expect(claims).toMatchObject({
      appid: fabrikam.tokenBroker.clientId,
      oid: fabrikam.tokenBroker.oid,
      idtyp: 'app',
      azpacr: '2',
    });
    expect(claims.roles).toBeUndefined();
  });

  it('WorkloadIdentityCredential from the AKS environment variables', async () => {
    const file = path.join(tmp, 'env', 'token');
    await t.azure.clusterIssuer.writeServiceAccountToken(file, 'identity-platform', 'token-broker');
    const saved = { ...process.env };
    Object.assign(process.env, {
      AZURE_FEDERATED_TOKEN_FILE: file,
      AZURE_CLIENT_ID: fabrikam.tokenBroker.clientId,
      AZURE_TENANT_ID: fabrikam.id,
      AZURE_AUTHORITY_HOST: t.azure.authorityHost,
    });
    try {
      const cred = new WorkloadIdentityCredential({ disableInstanceDiscovery: true });
      const { token } = await cred.getToken('https://vault.azure.net/.default');
      expect(decodeJwt(token)).toMatchObject({
        aud: 'https://vault.azure.net',
        appid: fabrikam.tokenBroker.clientId,
      });
    } finally {
      for (const k of [
        'AZURE_FEDERATED_TOKEN_FILE',
        'AZURE_CLIENT_ID',
        'AZURE_TENANT_ID',
        'AZURE_AUTHORITY_HOST',
      ]) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });

  it('serves the cluster issuer discovery documents', async () => {
    const meta = (await (
      await fetch(`${t.azure.clusterIssuer.issuerUrl}.well-known/openid-configuration`)
    ).json()) as Record<string, string>;
    expect(meta.issuer).toBe(t.azure.clusterIssuer.issuerUrl);
    expect(meta.jwks_uri).toEqual(expect.any(String));
    const jwks = (await (await fetch(meta.jwks_uri ?? '')).json()) as {
      keys: { kid: string; kty: string }[];
    };
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA' });
  });
});
