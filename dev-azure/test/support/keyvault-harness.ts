// Test harness for the Key Vault stand-in: TLS from the dev CA, a minimal
// Entra-like issuer (OIDC metadata, JWKS, client_credentials token endpoint)
// that @azure/identity's ClientSecretCredential can use, and the vault itself.
import { ClientSecretCredential } from '@azure/identity';
import { ensureDevCa } from '@idp/dev-ca';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { createServer, type Server } from 'node:https';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startKeyVault,
  type KeyVaultHandle,
  type KeyVaultOptions,
  type RoleAssignment,
} from '../../src/keyvault';

/** The Key Vault REST API version the raw requests of the specs name. */
export const API = 'api-version=2025-07-01';

export const TENANT_ID = '72f988bf-86f1-41af-91ab-2d7cd011db47';

export interface Tls {
  certPem: string;
  keyPem: string;
}

/** Server certificate for localhost from the repo's dev CA (the CA Node trusts via NODE_EXTRA_CA_CERTS). */
export async function devTls(): Promise<Tls> {
  if (!process.env.NODE_EXTRA_CA_CERTS) {
    throw new Error(
      'NODE_EXTRA_CA_CERTS is not set: run the tests through `node ../scripts/with-dev-ca.mjs jest`.',
    );
  }
  const { certPem, keyPem } = await ensureDevCa();
  return { certPem, keyPem };
}

export interface TestClient {
  clientId: string;
  secret: string;
  /** Object id of the service principal (the token's oid). */
  oid: string;
}

export function newClient(): TestClient {
  return { clientId: randomUUID(), secret: `s3cret-${randomUUID()}`, oid: randomUUID() };
}

export interface TestIssuer {
  url: string;
  tokenRequests: number;
  /** Signs an access token with the issuer's key; claims override the defaults (vault audience, 1 h lifetime). */
  mint(
    client: TestClient,
    claims?: JWTPayload,
    opts?: { alg?: string; untrustedKey?: boolean },
  ): Promise<string>;
  stop(): Promise<void>;
}

/** Just enough Entra ID for MSAL's client-credentials flow and for the vault's JWKS lookup. */
export async function startTestIssuer(tls: Tls, clients: TestClient[]): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const other = await generateKeyPair('RS256');
  const kid = randomUUID();
  const jwk = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' };
  let url = '';
  const issuerId = () => `${url}/${TENANT_ID}/v2.0`;

  const mint: TestIssuer['mint'] = async (client, claims = {}, opts = {}) => {
    const now = Math.floor(Date.now() / 1000);
    const jwt = new SignJWT({
      aud: 'https://vault.azure.net',
      iss: issuerId(),
      tid: TENANT_ID,
      azp: client.clientId,
      appid: client.clientId,
      oid: client.oid,
      sub: client.oid,
      ver: '2.0',
      iat: now,
      nbf: now,
      exp: now + 3600,
      ...claims,
    }).setProtectedHeader({ alg: opts.alg ?? 'RS256', kid, typ: 'JWT' });
    return jwt.sign(opts.untrustedKey ? other.privateKey : privateKey);
  };

  const issuer: TestIssuer = { url: '', tokenRequests: 0, mint, stop: async () => undefined };

  const server: Server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path === `/${TENANT_ID}/v2.0/.well-known/openid-configuration`) {
      send(200, {
        issuer: issuerId(),
        authorization_endpoint: `${url}/${TENANT_ID}/oauth2/v2.0/authorize`,
        token_endpoint: `${url}/${TENANT_ID}/oauth2/v2.0/token`,
        jwks_uri: `${url}/${TENANT_ID}/discovery/v2.0/keys`,
        response_types_supported: ['code', 'id_token', 'token'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
      });
      return;
    }
    if (req.method === 'GET' && path === `/${TENANT_ID}/discovery/v2.0/keys`) {
      send(200, { keys: [jwk] });
      return;
    }
    if (req.method === 'POST' && path === `/${TENANT_ID}/oauth2/v2.0/token`) {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const form = new URLSearchParams(raw);
        const client = clients.find((c) => c.clientId === form.get('client_id'));
        if (
          form.get('grant_type') !== 'client_credentials' ||
          !client ||
          client.secret !== form.get('client_secret')
        ) {
          send(401, {
            error: 'invalid_client',
            error_description: 'AADSTS7000215: Invalid client secret provided.',
          });
          return;
        }
        const scope = form.get('scope') ?? '';
        const resource = scope
          .split(' ')
          .find((s) => s.endsWith('/.default'))
          ?.replace(/\/\.default$/, '');
        issuer.tokenRequests++;
        void mint(client, { aud: resource ?? 'unknown' }).then((token) =>
          send(200, {
            token_type: 'Bearer',
            expires_in: 3599,
            ext_expires_in: 3599,
            access_token: token,
          }),
        );
      });
      return;
    }
    send(404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  url = `https://localhost:${(server.address() as AddressInfo).port}`;
  issuer.url = url;
  issuer.stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return issuer;
}

export function credentialFor(issuer: TestIssuer, client: TestClient): ClientSecretCredential {
  return new ClientSecretCredential(TENANT_ID, client.clientId, client.secret, {
    authorityHost: issuer.url,
    disableInstanceDiscovery: true,
  });
}

/** The options the SDK clients need against this vault: the dev-only flag and nothing else. */
export const devClientOptions = { disableChallengeResourceVerification: true } as const;

export interface VaultFixture {
  tls: Tls;
  issuer: TestIssuer;
  vault: KeyVaultHandle;
  dataDir: string;
  options: KeyVaultOptions;
  /** Stops the vault and starts it again on the same data dir (new port). */
  restart(overrides?: Partial<KeyVaultOptions>): Promise<KeyVaultHandle>;
  close(): Promise<void>;
}

export async function startVaultFixture(
  clients: TestClient[],
  roleAssignments: RoleAssignment[],
  extra: Partial<KeyVaultOptions> = {},
): Promise<VaultFixture> {
  const tls = await devTls();
  const issuer = await startTestIssuer(tls, clients);
  const dataDir = await mkdtemp(join(tmpdir(), 'keyvault-test-'));
  const options: KeyVaultOptions = {
    host: 'localhost',
    port: 0,
    tls,
    dataDir,
    tenantId: TENANT_ID,
    identityUrl: issuer.url,
    roleAssignments,
    ...extra,
  };
  const fixture: VaultFixture = {
    tls,
    issuer,
    vault: await startKeyVault(options),
    dataDir,
    options,
    async restart(overrides = {}) {
      await fixture.vault.stop();
      fixture.vault = await startKeyVault({ ...options, ...overrides });
      return fixture.vault;
    },
    async close() {
      await fixture.vault.stop();
      await issuer.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return fixture;
}

export interface RawResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

/** A direct HTTPS call to the vault (for protocol details the SDKs hide). */
export async function rawRequest(
  url: string,
  init: { method?: string; token?: string; body?: string; contentType?: string } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['content-type'] = init.contentType ?? 'application/json';
  const res = await fetch(url, { method: init.method ?? 'GET', headers, body: init.body });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: keep the text for the assertion message.
  }
  return { status: res.status, headers: res.headers, body };
}
