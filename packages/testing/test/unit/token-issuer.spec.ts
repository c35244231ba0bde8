import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { TestKey, TokenIssuer, unsignedToken } from '../../src';

let issuer: TokenIssuer;
beforeAll(async () => {
  issuer = await TokenIssuer.start({ audience: 'api://unit' });
});
afterAll(() => issuer.stop());

const metadata = async (url: string): Promise<{ issuer: string; jwks_uri: string }> => {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return (await res.json()) as { issuer: string; jwks_uri: string };
};

async function verify(metadataUrl: string, token: string, iss?: string) {
  const m = await metadata(metadataUrl);
  const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(m.jwks_uri)), {
    issuer: iss ?? m.issuer,
    audience: 'api://unit',
  });
  return payload;
}

describe('TokenIssuer', () => {
  it('serves B2C flow metadata (shared issuer) and signs tfp tokens its JWKS verifies', async () => {
    const url = issuer.b2cMetadataUrl('B2C_1_signupsignin_mfa');
    expect((await metadata(url)).issuer).toBe(issuer.b2cIssuer);
    const token = await issuer.b2cToken({ flow: 'B2C_1_signupsignin_mfa', scp: 'A.Read' });
    expect(await verify(url, token)).toMatchObject({ ver: '1.0', tfp: 'B2C_1_signupsignin_mfa' });
    expect((await fetch(issuer.b2cMetadataUrl('B2C_1_unknown'))).status).toBe(404);
  });

  it('issues Entra v2 and v1 app-only tokens with roles', async () => {
    const v2 = await verify(
      issuer.entraMetadataUrl(),
      await issuer.appToken({ roles: ['Scim.Admin'] }),
    );
    expect(v2).toMatchObject({ ver: '2.0', idtyp: 'app', roles: ['Scim.Admin'] });
    expect(v2.tid).toBe(issuer.tenantId);
    const v1 = await verify(
      issuer.entraMetadataUrl(),
      await issuer.appToken({ ver: '1.0' }),
      issuer.entraV1Issuer,
    );
    expect(v1).toMatchObject({ ver: '1.0', appidacr: '2', roles: ['Policies.Read.All'] });
  });

  it('issues External ID tokens per tenant with acrs / xms_cc; unknown tenants get 404', async () => {
    const token = await issuer.ciamToken({ acrs: ['c1'], xms_cc: ['cp1'] });
    const payload = await verify(issuer.ciamMetadataUrl(), token);
    expect(payload).toMatchObject({ tid: issuer.ciamTenantId, acrs: ['c1'], xms_cc: ['cp1'] });
    expect(payload.iss).toBe(
      `https://${issuer.ciamTenantId}.ciamlogin.com/${issuer.ciamTenantId}/v2.0`,
    );
    const other = await metadata(issuer.ciamMetadataUrl(issuer.otherCiamTenantId));
    expect(other.issuer).toBe(issuer.ciamIssuer(issuer.otherCiamTenantId));
    expect((await fetch(issuer.ciamMetadataUrl(crypto.randomUUID()))).status).toBe(404);
  });

  it('rotates keys, keeps per-realm JWKS apart and counts JWKS requests', async () => {
    const before = issuer.jwksHits('entra');
    const old = issuer.signingKey('entra');
    const fresh = await issuer.rotateKey('entra');
    const token = await issuer.appToken();
    expect(decodeProtectedHeader(token).kid).toBe(fresh.kid);
    await verify(issuer.entraMetadataUrl(), token);
    expect(issuer.keys('entra').map((k) => k.kid)).toEqual([fresh.kid, old.kid]);
    expect(issuer.jwksHits('entra')).toBe(before + 1);

    const ciamOnly = await TestKey.generate('ciam-only', 'ES256');
    issuer.setKeys('ciam', [ciamOnly]);
    const jwks = (await (await fetch(`${issuer.base}${issuer.jwksPath('ciam')}`)).json()) as {
      keys: { kid: string }[];
    };
    expect(jwks.keys.map((k) => k.kid)).toEqual(['ciam-only']);
    await expect(
      verify(issuer.ciamMetadataUrl(), await issuer.ciamToken({}, { key: old })),
    ).rejects.toThrow();
  });

  it('answers overrides and mints alg=none tokens for negative tests', async () => {
    const path = new URL(issuer.entraMetadataUrl()).pathname;
    issuer.override(path, () => ({ status: 500, body: {} }));
    expect((await fetch(issuer.entraMetadataUrl())).status).toBe(500);
    issuer.clearOverrides();
    expect((await fetch(issuer.entraMetadataUrl())).status).toBe(200);
    const none = unsignedToken({ sub: 'x' }, 'k');
    expect(decodeProtectedHeader(none).alg).toBe('none');
  });
});
