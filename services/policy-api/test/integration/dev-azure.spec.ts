import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevAzure, type DevAzure } from '@idp/dev-azure';
import { b2cEnv, daemonToken, PORTAL, userToken as issueUserToken } from '../support/dev-azure';
import { Harness } from '../support/harness';
import {
  challengeParams,
  split,
  type ErrorBody,
  type HistoryBody,
  type PolicyBody,
} from '../support/fixtures';

// Real tokens from the identity stand-in (dev-azure): B2C user-flow tokens for the seeded users
// and an app-only token from its client-credentials endpoint (test/support/dev-azure.ts).

// The External ID tenant that succeeds the B2C one (alice is a migrated user there).
const EXT = {
  tenant: 'contosoext',
  portal: 'c24b384c-bbd7-4ad1-ad44-8d035f870a8d',
  policyApi: 'd1285d1d-863d-4811-bb7a-8755efd310af',
};
const EXT_SCOPES = [
  `api://${EXT.policyApi}/Accounts.Read`,
  `api://${EXT.policyApi}/Accounts.Write`,
];

describe('policy-api with tokens from the dev-azure identity stand-in', () => {
  let azure: DevAzure;
  let h: Harness;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'policy-api-dev-azure-'));
    azure = await startDevAzure({ dataDir, keyVault: false });
    const extTenantId = azure.config.tenants.find((t) => t.name === EXT.tenant)?.id ?? '';
    h = await Harness.start({
      ...b2cEnv(azure),
      // Migration window: the External ID tenant too, with its migration claim.
      EXTERNAL_ID_TENANT_ID: extTenantId,
      EXTERNAL_ID_METADATA: `${azure.identityUrl}/${extTenantId}/v2.0/.well-known/openid-configuration`,
      EXTERNAL_ID_AUDIENCE: EXT.policyApi,
      LEGACY_OBJECT_ID_CLAIM: 'extn.legacyB2cObjectId',
    });
  }, 90000);
  afterAll(async () => {
    await h?.stop();
    await azure?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const userToken = (email: string, flow: string, authTime?: number) =>
    issueUserToken(azure, email, flow, authTime);

  it('serves a seeded user her policy, keyed by her object id', async () => {
    const alice = azure.identity.findUser('alice@contoso.example');
    const r = await h.call<PolicyBody>('GET', '/policies/me', {
      token: await userToken('alice@contoso.example', 'B2C_1_signupsignin'),
    });
    expect([200, 201]).toContain(r.status); // 201 when this read created it
    expect(r.body.holderOid).toBe(alice?.oid);
  });

  it('refuses a beneficiary change with a sign-in token and accepts it after MFA step-up', async () => {
    const signIn = await userToken('alice@contoso.example', 'B2C_1_signupsignin');
    const read = await h.call<PolicyBody>('GET', '/policies/me', { token: signIn });
    const etag = read.headers.get('etag') ?? '';
    const body = { beneficiaries: split(['Carol Example', 'Dan Example']) };

    const refused = await h.call<ErrorBody>('PUT', '/policies/me/beneficiaries', {
      token: signIn,
      headers: { 'if-match': etag },
      body,
    });
    expect(refused.status).toBe(401);
    expect(challengeParams(refused.headers.get('www-authenticate'))).toEqual(
      expect.objectContaining({
        error: 'insufficient_user_authentication',
        acr_values: 'b2c_1_signupsignin_mfa',
        max_age: '600',
      }),
    );

    const old = await userToken(
      'alice@contoso.example',
      'B2C_1_signupsignin_mfa',
      Math.floor(Date.now() / 1000) - 3600,
    );
    expect(
      (
        await h.call('PUT', '/policies/me/beneficiaries', {
          token: old,
          headers: { 'if-match': etag },
          body,
        })
      ).status,
    ).toBe(401);

    const mfa = await userToken('alice@contoso.example', 'B2C_1_signupsignin_mfa');
    const changed = await h.call<PolicyBody>('PUT', '/policies/me/beneficiaries', {
      token: mfa,
      headers: { 'if-match': etag },
      body,
    });
    expect(changed.status).toBe(200);
    expect(changed.body.beneficiaries).toEqual(body.beneficiaries);
    const history = await h.call<HistoryBody>('GET', '/policies/me/history', { token: signIn });
    expect(history.body.items[0]).toEqual(
      expect.objectContaining({
        userFlow: 'b2c_1_signupsignin_mfa',
        clientId: PORTAL,
        changedBy: read.body.holderOid,
      }),
    );

    // Bob sees only his own (empty) policy.
    const bob = await h.call<PolicyBody>('GET', '/policies/me', {
      token: await userToken('bob@contoso.example', 'B2C_1_signupsignin'),
    });
    expect(bob.body.policyNumber).not.toBe(read.body.policyNumber);
    expect(bob.body.beneficiaries).toEqual([]);
  });

  it('lets the daemon read any policy with a client-credentials token, never a user', async () => {
    const alice = await h.call<PolicyBody>('GET', '/policies/me', {
      token: await userToken('alice@contoso.example', 'B2C_1_signupsignin'),
    });
    const daemon = await daemonToken(azure);
    expect(daemon.status).toBe(200);
    const appToken = daemon.token;

    const byNumber = await h.call<PolicyBody>('GET', `/policies/${alice.body.policyNumber}`, {
      token: appToken,
    });
    expect(byNumber.status).toBe(200);
    expect(byNumber.body.holderOid).toBe(alice.body.holderOid);
    expect((await h.call('GET', '/policies/me', { token: appToken })).status).toBe(403);

    const asUser = await h.call('GET', `/policies/${alice.body.policyNumber}`, {
      token: await userToken('alice@contoso.example', 'B2C_1_signupsignin_mfa'),
    });
    expect(asUser.status).toBe(403);
  });

  it('External ID: migrated alice keeps her B2C policy and history, and changes it only with acrs c1', async () => {
    // The portal declares the cp1 client capability; policy-api asks for xms_cc.
    const extToken = async (email: string, acrs?: string[], clientCapabilities = ['cp1']) =>
      (
        await azure.identity.issueExternalUserTokens({
          tenant: EXT.tenant,
          userEmail: email,
          clientId: EXT.portal,
          scopes: EXT_SCOPES,
          acrs,
          clientCapabilities,
        })
      ).access_token;
    const viaB2c = await h.call<PolicyBody>('GET', '/policies/me', {
      token: await userToken('alice@contoso.example', 'B2C_1_signupsignin'),
    });
    const migrated = azure.identity.findUser('alice@contoso.example', { tenant: EXT.tenant });
    expect(migrated?.legacyB2cObjectId).toBe(viaB2c.body.holderOid);

    const read = await h.call<PolicyBody>('GET', '/policies/me', {
      token: await extToken('alice@contoso.example'),
    });
    expect(read.status).toBe(200);
    expect(read.body).toEqual({ ...viaB2c.body, holderOid: migrated?.oid });
    const history = await h.call<HistoryBody>('GET', '/policies/me/history', {
      token: await extToken('alice@contoso.example'),
    });
    expect(history.body.items[0]).toEqual(
      expect.objectContaining({ changedBy: viaB2c.body.holderOid, changedByProvider: 'b2c' }),
    );

    const body = { beneficiaries: split(['Erin Example']) };
    const etag = read.headers.get('etag') ?? '';
    const refused = await h.call<ErrorBody>('PUT', '/policies/me/beneficiaries', {
      token: await extToken('alice@contoso.example'),
      headers: { 'if-match': etag },
      body,
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('error="insufficient_claims"');
    // A client without cp1 gets the RFC 9470 challenge alone (Microsoft: claims challenges
    // only to clients that declared the capability).
    const withoutCp1 = await h.call<ErrorBody>('PUT', '/policies/me/beneficiaries', {
      token: await extToken('alice@contoso.example', undefined, []),
      headers: { 'if-match': etag },
      body,
    });
    expect(withoutCp1.status).toBe(401);
    expect(withoutCp1.headers.get('www-authenticate')).toBe(
      'Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="c1", max_age=600',
    );
    const changed = await h.call<PolicyBody>('PUT', '/policies/me/beneficiaries', {
      token: await extToken('alice@contoso.example', ['c1']),
      headers: { 'if-match': etag },
      body,
    });
    expect([changed.status, changed.body.version]).toEqual([200, viaB2c.body.version + 1]);

    // Carol signed up on External ID (no B2C past): a policy of her own.
    const carol = await h.call<PolicyBody>('GET', '/policies/me', {
      token: await extToken('carol@contoso.example'),
    });
    expect(carol.status).toBe(201);
    expect(carol.body.policyNumber).not.toBe(read.body.policyNumber);
  });
});
