// State survives a restart (users, TOTP, signing keys, refresh tokens,
// assertion replay set); key rotation keeps old tokens verifiable; the test
// helpers sign exactly as the flows do.
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  jwtVerify,
  SignJWT,
  type JSONWebKeySet,
} from 'jose';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createClientCert, type ClientCert } from '../support/certs';
import { expectPage, expectRedirect, HttpBrowser } from '../support/http-browser';
import { REDIRECT_URI, seed, startTestAzure, type TestAzure } from '../support/harness';

const { contoso, fabrikam } = seed;
const CERT_APP = {
  clientId: '2d9b7a0c-4e6f-4d8a-ab3c-5e7f9a1b3c4d',
  oid: '3e0c8b1d-5f7a-4e9b-bc4d-6f8a0b2c4d5e',
};
let t: TestAzure;
let cert: ClientCert;

beforeAll(async () => {
  cert = await createClientCert('persist-app');
  t = await startTestAzure({
    adjust: (cfg) => {
      const profileEdit = cfg.tenants
        .find((x) => x.name === 'contoso')
        ?.userFlows?.find((f) => f.name === 'B2C_1_profileedit');
      if (profileEdit) profileEdit.acrClaim = true;
      cfg.tenants
        .find((x) => x.name === 'fabrikam')
        ?.apps?.push({
          name: 'persist-app',
          displayName: 'Persistence tests',
          clientId: CERT_APP.clientId,
          servicePrincipalId: CERT_APP.oid,
          certificates: [{ pem: cert.certPem }],
          grantedAppRoles: [{ resource: 'scim', roles: ['Scim.Admin'] }],
        });
    },
  });
});
afterAll(async () => {
  await t.stop();
});

async function jwks(tenantId: string): Promise<JSONWebKeySet> {
  return (await (
    await fetch(`${t.azure.identityUrl}/${tenantId}/discovery/v2.0/keys`)
  ).json()) as JSONWebKeySet;
}

describe('test helpers and persistence', () => {
  it('issueUserAccessToken signs with the flow rules and the tenant key', async () => {
    const token = await t.azure.identity.issueUserAccessToken({
      tenant: 'contoso',
      flow: 'b2c_1_signupsignin_mfa',
      userEmail: contoso.alice.email,
      clientId: contoso.portal.clientId,
      scopes: [`${contoso.policyApi.uri}/Accounts.Write`, `${contoso.policyApi.uri}/Nope`],
      authTime: 1_700_000_000,
    });
    const { payload } = await jwtVerify(token, createLocalJWKSet(await jwks(contoso.id)), {
      issuer: `${t.azure.identityUrl}/${contoso.id}/v2.0/`,
      audience: contoso.policyApi.clientId,
    });
    expect(payload).toMatchObject({
      tfp: 'B2C_1_signupsignin_mfa',
      scp: 'Accounts.Write',
      auth_time: 1_700_000_000,
      oid: contoso.alice.oid,
      azp: contoso.portal.clientId,
    });

    const acr = decodeJwt(
      await t.azure.identity.issueUserAccessToken({
        tenant: 'contoso',
        flow: 'B2C_1_profileedit',
        userEmail: contoso.alice.email,
        clientId: contoso.portal.clientId,
        scopes: [contoso.portal.clientId],
      }),
    );
    expect(acr).toMatchObject({ acr: 'b2c_1_profileedit', aud: contoso.portal.clientId });
    expect(acr.tfp).toBeUndefined();

    const app = await t.azure.identity.issueAppAccessToken({
      tenant: 'fabrikam',
      clientId: fabrikam.scimAdmin.clientId,
      scope: 'api://scim/.default',
    });
    expect(decodeJwt(app)).toMatchObject({ roles: ['Scim.Admin'], idtyp: 'app' });
  });

  it('rotates signing keys: the new key signs, the old one stays published', async () => {
    const before = await t.azure.identity.issueUserAccessToken({
      tenant: contoso.id,
      flow: 'B2C_1_signupsignin',
      oid: contoso.bob.oid,
      clientId: contoso.portal.clientId,
      scopes: ['api://policy-api/Accounts.Read'],
    });
    const kid = await t.azure.identity.rotateSigningKey('contoso');
    const after = await t.azure.identity.issueUserAccessToken({
      tenant: 'contoso',
      flow: 'B2C_1_signupsignin',
      oid: contoso.bob.oid,
      clientId: contoso.portal.clientId,
      scopes: ['api://policy-api/Accounts.Read'],
    });
    expect(decodeProtectedHeader(after).kid).toBe(kid);
    expect(decodeProtectedHeader(before).kid).not.toBe(kid);
    const keys = await jwks(contoso.id);
    expect(keys.keys.map((k) => k.kid)).toEqual(
      expect.arrayContaining([kid, decodeProtectedHeader(before).kid]),
    );
    const set = createLocalJWKSet(keys);
    await expect(jwtVerify(before, set)).resolves.toBeDefined();
    await expect(jwtVerify(after, set)).resolves.toBeDefined();
  });

  it('keeps users, keys, refresh tokens and used assertion ids across a restart', async () => {
    const user = await t.azure.identity.createUser({
      tenant: 'contoso',
      email: 'carol@contoso.example',
      password: 'Carol-dev-Passw0rd!',
      givenName: 'Carol',
      surname: 'Persist',
      displayName: 'Carol Persist',
    });
    // A refresh token through the real endpoints (code flow with a confidential client, no PKCE).
    const authorize = `${t.azure.identityUrl}/contoso.onmicrosoft.com/b2c_1_signupsignin/oauth2/v2.0/authorize?${new URLSearchParams(
      {
        client_id: contoso.portal.clientId,
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        scope: 'openid offline_access api://policy-api/Accounts.Read',
      },
    )}`;
    const browser = new HttpBrowser(t.azure.identityUrl);
    const back = expectRedirect(
      await browser.submit(expectPage(await browser.open(authorize)), {
        email: 'carol@contoso.example',
        password: 'Carol-dev-Passw0rd!',
      }),
    );
    const tokenEndpoint = `${t.azure.identityUrl}/contoso.onmicrosoft.com/b2c_1_signupsignin/oauth2/v2.0/token`;
    const form = (b: Record<string, string>) => ({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: contoso.portal.clientId,
        client_secret: contoso.portal.secret,
        ...b,
      }).toString(),
    });
    const first = (await (
      await fetch(
        tokenEndpoint,
        form({
          grant_type: 'authorization_code',
          code: back.searchParams.get('code') ?? '',
          redirect_uri: REDIRECT_URI,
        }),
      )
    ).json()) as {
      refresh_token: string;
      id_token: string;
    };
    expect(first.refresh_token).toBeTruthy();

    const now = Math.floor(Date.now() / 1000);
    const tokenUrl = `${t.azure.identityUrl}/${fabrikam.id}/oauth2/v2.0/token`;
    const assertion = await new SignJWT({
      aud: tokenUrl,
      iss: CERT_APP.clientId,
      sub: CERT_APP.clientId,
      jti: randomUUID(),
      nbf: now,
      exp: now + 600,
    })
      .setProtectedHeader({ alg: 'PS256', 'x5t#S256': cert.x5tS256 })
      .sign(cert.privateKey);
    const ccBody = {
      grant_type: 'client_credentials',
      client_id: CERT_APP.clientId,
      scope: 'api://scim/.default',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    };
    const post = (b: Record<string, string>) =>
      fetch(tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(b).toString(),
      });
    expect((await post(ccBody)).status).toBe(200);
    const kidsBefore = (await jwks(contoso.id)).keys.map((k) => k.kid);

    await t.restart();
    expect(fs.existsSync(path.join(t.dataDir, 'identity', 'state.json'))).toBe(true);

    expect(t.azure.identity.findUser('carol@contoso.example')?.oid).toBe(user.oid);
    expect((await jwks(contoso.id)).keys.map((k) => k.kid)).toEqual(kidsBefore);
    // The ID token issued before the restart still verifies against the new process's JWKS.
    await expect(
      jwtVerify(first.id_token, createLocalJWKSet(await jwks(contoso.id))),
    ).resolves.toBeDefined();
    const refreshed = await fetch(
      `${t.azure.identityUrl}/contoso.onmicrosoft.com/b2c_1_signupsignin/oauth2/v2.0/token`,
      form({ grant_type: 'refresh_token', refresh_token: first.refresh_token }),
    );
    expect(refreshed.status).toBe(200);
    const replay = await post(ccBody);
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { error_description: string }).error_description).toMatch(
      /^AADSTS50013: .*already used/,
    );
  });
});
