import {
  AzureAdConfig,
  b2cMetadataUrl,
  entraMetadataUrl,
  externalIdIssuer,
  externalIdMetadataUrl,
  userFlowFromMetadataUrl,
} from '../../src';

describe('AzureAdConfig', () => {
  it('builds B2C metadata URLs (flow lower-cased as MSAL requests it)', () => {
    expect(b2cMetadataUrl({ tenantName: 'contoso', userFlow: 'B2C_1_SignUpSignIn' })).toBe(
      'https://contoso.b2clogin.com/contoso.onmicrosoft.com/b2c_1_signupsignin/v2.0/.well-known/openid-configuration',
    );
    expect(
      AzureAdConfig.b2cMetadataUrl({
        tenantName: 'contoso.onmicrosoft.com',
        userFlow: 'B2C_1_mfa',
        host: 'localhost:8443',
      }),
    ).toBe(
      'https://localhost:8443/contoso.onmicrosoft.com/b2c_1_mfa/v2.0/.well-known/openid-configuration',
    );
  });

  it('builds Entra metadata URLs and issuers', () => {
    const tid = '7e2f0c3a-1111-4222-8333-944455556666';
    expect(entraMetadataUrl({ tenantId: tid })).toBe(
      `https://login.microsoftonline.com/${tid}/v2.0/.well-known/openid-configuration`,
    );
    expect(AzureAdConfig.entraIssuer({ tenantId: tid })).toBe(
      `https://login.microsoftonline.com/${tid}/v2.0`,
    );
    expect(AzureAdConfig.entraV1Issuer(tid)).toBe(`https://sts.windows.net/${tid}/`);
    expect(AzureAdConfig.b2cIssuer({ tenantId: tid, host: 'contoso.b2clogin.com' })).toBe(
      `https://contoso.b2clogin.com/${tid}/v2.0/`,
    );
  });

  it('refuses values that would change the URL structure', () => {
    expect(() => b2cMetadataUrl({ tenantName: 'contoso', userFlow: '../admin' })).toThrow(
      TypeError,
    );
    expect(() => entraMetadataUrl({ tenantId: 'a?b' })).toThrow(TypeError);
    expect(() => entraMetadataUrl({ tenantId: 't', host: 'evil.example/x' })).toThrow(TypeError);
  });

  it('reads the user flow back from a metadata URL', () => {
    expect(
      userFlowFromMetadataUrl(b2cMetadataUrl({ tenantName: 'contoso', userFlow: 'B2C_1_X' })),
    ).toBe('b2c_1_x');
    expect(
      userFlowFromMetadataUrl(
        'https://contoso.b2clogin.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration?p=B2C_1_Legacy',
      ),
    ).toBe('b2c_1_legacy');
    expect(userFlowFromMetadataUrl(entraMetadataUrl({ tenantId: 'tid' }))).toBeUndefined();
  });

  it('builds External ID metadata URLs (tenant subdomain host) and issuers (tenant id host)', () => {
    const tid = '7E2F0C3A-1111-4222-8333-944455556666';
    expect(externalIdMetadataUrl({ subdomain: 'ContosoID', tenantId: tid })).toBe(
      `https://contosoid.ciamlogin.com/${tid}/v2.0/.well-known/openid-configuration`,
    );
    expect(
      AzureAdConfig.externalIdMetadataUrl({
        subdomain: 'contosoid',
        tenantId: 'contosoid.onmicrosoft.com',
      }),
    ).toBe(
      'https://contosoid.ciamlogin.com/contosoid.onmicrosoft.com/v2.0/.well-known/openid-configuration',
    );
    const lower = tid.toLowerCase();
    expect(externalIdIssuer({ tenantId: tid })).toBe(
      `https://${lower}.ciamlogin.com/${lower}/v2.0`,
    );
    expect(
      userFlowFromMetadataUrl(externalIdMetadataUrl({ subdomain: 'c', tenantId: tid })),
    ).toBeUndefined();
    expect(() => externalIdMetadataUrl({ subdomain: 'a/b', tenantId: tid })).toThrow(TypeError);
  });
});
