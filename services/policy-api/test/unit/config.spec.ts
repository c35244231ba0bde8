import { ConfigError } from '@idp/service-kit';
import { authModuleOptions, identityProviders } from '../../src/auth/auth-options';
import { loadPolicyApiConfig } from '../../src/config';

const TENANT = '5b9a3f63-8c0e-4d6f-a1d1-2f0c7a6b9e41';
const B2C =
  'https://contoso.b2clogin.com/contoso.onmicrosoft.com/b2c_1_signupsignin/v2.0/.well-known/openid-configuration';
const base = {
  DATABASE_URL: 'postgresql://u:p@db:5432/policy',
  NATS_URL: 'nats://nats:4222',
  API_AUDIENCE: 'api://policy-api',
};

const problems = (env: Record<string, string>): string[] => {
  try {
    loadPolicyApiConfig({ ...base, ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('customer identity configuration', () => {
  it('needs at least one user provider, naming the variable, in the same pass as other problems', () => {
    expect(problems({ PORT: 'abc' })).toEqual(
      expect.arrayContaining([
        'PORT: must be a port number',
        expect.stringMatching(
          /^B2C_IDENTITY_METADATA: is required but not set \(or configure External ID: EXTERNAL_ID_TENANT_ID\)/,
        ),
      ]),
    );
    expect(problems({ B2C_IDENTITY_METADATA: '' })).toEqual([
      expect.stringMatching(/^B2C_IDENTITY_METADATA: is required/),
    ]);
  });

  it('trusts External ID alone: the metadata URL is built from the subdomain, the step-up context defaults to c1', () => {
    const c = loadPolicyApiConfig({
      ...base,
      EXTERNAL_ID_TENANT_ID: TENANT,
      EXTERNAL_ID_SUBDOMAIN: 'contosoid',
    });
    expect(c.STEP_UP_AUTH_CONTEXT).toBe('c1');
    expect(identityProviders(c)).toEqual([
      {
        kind: 'external-id',
        tenantId: TENANT,
        identityMetadata: `https://contosoid.ciamlogin.com/${TENANT}/v2.0/.well-known/openid-configuration`,
      },
    ]);
  });

  it('trusts B2C and External ID side by side (migration window), the migration claim only on External ID', () => {
    const c = loadPolicyApiConfig({
      ...base,
      B2C_IDENTITY_METADATA: B2C,
      APP_IDENTITY_METADATA: `https://login.microsoftonline.com/${TENANT}/v2.0/.well-known/openid-configuration`,
      EXTERNAL_ID_TENANT_ID: TENANT.toUpperCase(),
      EXTERNAL_ID_METADATA: `https://contosoid.ciamlogin.com/contosoid.onmicrosoft.com/v2.0/.well-known/openid-configuration`,
      EXTERNAL_ID_AUDIENCE: 'api://policy-api-ciam, 0a1b2c3d',
      LEGACY_OBJECT_ID_CLAIM: 'extn.legacyB2cObjectId',
      STEP_UP_AUTH_CONTEXT: 'C7',
    });
    expect(identityProviders(c)).toEqual([
      { kind: 'b2c', identityMetadata: [B2C] },
      {
        kind: 'external-id',
        tenantId: TENANT,
        identityMetadata:
          'https://contosoid.ciamlogin.com/contosoid.onmicrosoft.com/v2.0/.well-known/openid-configuration',
        audience: ['api://policy-api-ciam', '0a1b2c3d'],
        legacyObjectIdClaim: 'extn.legacyB2cObjectId',
      },
      {
        kind: 'entra',
        identityMetadata: [
          `https://login.microsoftonline.com/${TENANT}/v2.0/.well-known/openid-configuration`,
        ],
      },
    ]);
  });

  it.each([
    [
      { EXTERNAL_ID_TENANT_ID: 'contosoid', EXTERNAL_ID_SUBDOMAIN: 'contosoid' },
      /^EXTERNAL_ID_TENANT_ID: must be the external tenant id \(a GUID\)/,
    ],
    [
      { EXTERNAL_ID_TENANT_ID: TENANT },
      /^EXTERNAL_ID_SUBDOMAIN: is required with EXTERNAL_ID_TENANT_ID \(or set EXTERNAL_ID_METADATA\)/,
    ],
    [
      { EXTERNAL_ID_TENANT_ID: TENANT, EXTERNAL_ID_SUBDOMAIN: 'contoso.ciamlogin.com' },
      /^EXTERNAL_ID_SUBDOMAIN: must be the tenant subdomain/,
    ],
    [
      { EXTERNAL_ID_TENANT_ID: TENANT, EXTERNAL_ID_METADATA: 'ftp://x/y' },
      /^EXTERNAL_ID_METADATA: must be an http\(s\) metadata URL/,
    ],
    [
      { EXTERNAL_ID_TENANT_ID: TENANT, EXTERNAL_ID_METADATA: 'http://127.0.0.1/x' },
      /^EXTERNAL_ID_METADATA: must use https/,
    ],
    [
      {
        EXTERNAL_ID_TENANT_ID: TENANT,
        EXTERNAL_ID_SUBDOMAIN: 'c',
        LEGACY_OBJECT_ID_CLAIM: 'a claim',
      },
      /^LEGACY_OBJECT_ID_CLAIM: must be a claim name/,
    ],
    [
      { EXTERNAL_ID_TENANT_ID: TENANT, EXTERNAL_ID_SUBDOMAIN: 'c', STEP_UP_AUTH_CONTEXT: 'mfa' },
      /^STEP_UP_AUTH_CONTEXT: must be an authentication context id c1 … c99/,
    ],
    [
      { B2C_IDENTITY_METADATA: B2C, LEGACY_OBJECT_ID_CLAIM: 'extn.legacyB2cObjectId' },
      /^LEGACY_OBJECT_ID_CLAIM: only applies with EXTERNAL_ID_TENANT_ID/,
    ],
    [
      { B2C_IDENTITY_METADATA: B2C, EXTERNAL_ID_SUBDOMAIN: 'contosoid' },
      /^EXTERNAL_ID_SUBDOMAIN: only applies with EXTERNAL_ID_TENANT_ID/,
    ],
  ])('refuses %j naming the variable', (env, message) => {
    expect(problems(env)).toEqual([expect.stringMatching(message)]);
  });
});

describe('AUTH_MAX_TOKEN_LIFETIME_SECONDS', () => {
  it('defaults to 24 h and reaches the token validator', () => {
    const c = loadPolicyApiConfig({ ...base, B2C_IDENTITY_METADATA: B2C });
    expect(c.AUTH_MAX_TOKEN_LIFETIME_SECONDS).toBe(86_400);
    expect(authModuleOptions(c).maxTokenLifetimeSeconds).toBe(86_400);
    const set = loadPolicyApiConfig({
      ...base,
      B2C_IDENTITY_METADATA: B2C,
      AUTH_MAX_TOKEN_LIFETIME_SECONDS: '3600',
    });
    expect(authModuleOptions(set).maxTokenLifetimeSeconds).toBe(3600);
  });

  it.each(['299', '604801', '3600.5', 'abc', '1e20', '-86400'])(
    'refuses %s, naming the variable',
    (value) => {
      const found = problems({
        B2C_IDENTITY_METADATA: B2C,
        AUTH_MAX_TOKEN_LIFETIME_SECONDS: value,
      });
      expect(found.length).toBeGreaterThan(0);
      for (const p of found) expect(p).toMatch(/^AUTH_MAX_TOKEN_LIFETIME_SECONDS: /);
    },
  );
});
