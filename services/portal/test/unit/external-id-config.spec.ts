// CUSTOMER_IDENTITY_PROVIDER: B2C stays the default with its variables; External ID has its
// own, each refused by name when missing or malformed.
import { ConfigError } from '@idp/service-kit';
import { ExternalIdAuthority, externalIdAuthorityUrl } from '../../src/auth/external-id-authority';
import { credentialOf } from '../../src/auth/msal-clients';
import { loadPortalConfig, redirectUriOf } from '../../src/config';
import { EXTERNAL_ID, externalIdPortalEnv, portalEnv } from '../support/portal-env';

const common = { DATABASE_URL: 'postgres://u@127.0.0.1/db' };
const ext = { ...externalIdPortalEnv({ identityUrl: 'https://localhost:9443' }), ...common };

function problems(env: Record<string, string | undefined>): string[] {
  try {
    loadPortalConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('customer identity provider switch', () => {
  it('defaults to b2c and still requires the B2C variables by name', () => {
    expect(loadPortalConfig({ ...portalEnv(), ...common }).CUSTOMER_IDENTITY_PROVIDER).toBe('b2c');
    const p = problems({
      ...common,
      PUBLIC_BASE_URL: 'https://x.example',
      POLICY_API_URL: 'http://api',
      POLICY_API_APP_ID_URI: 'api://x',
      SESSION_ENCRYPTION_KEY: portalEnv().SESSION_ENCRYPTION_KEY,
    });
    expect(p).toEqual(
      expect.arrayContaining([
        'B2C_AUTHORITY_HOST: is required but not set',
        'B2C_TENANT_DOMAIN: is required but not set',
        'B2C_CLIENT_ID: is required but not set',
      ]),
    );
    expect(p.some((m) => m.startsWith('EXTERNAL_ID_'))).toBe(false);
  });

  it('refuses an unknown provider', () => {
    expect(problems({ ...ext, CUSTOMER_IDENTITY_PROVIDER: 'auth0' })).toEqual([
      'CUSTOMER_IDENTITY_PROVIDER: must be b2c or external-id',
    ]);
  });

  it('loads External ID without any B2C variable', () => {
    const c = loadPortalConfig(ext);
    expect(c).toMatchObject({
      CUSTOMER_IDENTITY_PROVIDER: 'external-id',
      EXTERNAL_ID_CLIENT_ID: EXTERNAL_ID.clientId,
      GRAPH_BASE_URL: 'https://localhost:9443',
    });
    expect(c.B2C_AUTHORITY_HOST).toBeUndefined();
    expect(credentialOf(c)).toEqual({ clientSecret: EXTERNAL_ID.secret });
    expect(redirectUriOf(c)).toBe('https://localhost:8443/auth/redirect');
    expect(loadPortalConfig({ ...ext, GRAPH_BASE_URL: undefined }).GRAPH_BASE_URL).toBe(
      'https://graph.microsoft.com',
    );
  });

  it('names each missing or malformed External ID variable, also beside other problems', () => {
    expect(
      problems({
        ...ext,
        EXTERNAL_ID_AUTHORITY: undefined,
        EXTERNAL_ID_CLIENT_ID: undefined,
        EXTERNAL_ID_CLIENT_SECRET: undefined,
        PORT: 'abc',
      }),
    ).toEqual(
      expect.arrayContaining([
        'PORT: must be a port number',
        'EXTERNAL_ID_AUTHORITY: is required with CUSTOMER_IDENTITY_PROVIDER=external-id',
        'EXTERNAL_ID_CLIENT_ID: is required with CUSTOMER_IDENTITY_PROVIDER=external-id',
      ]),
    );
    expect(problems({ ...ext, EXTERNAL_ID_CLIENT_SECRET: undefined })).toEqual([
      'EXTERNAL_ID_CLIENT_SECRET: is required unless EXTERNAL_ID_CLIENT_CERTIFICATE_FILE and EXTERNAL_ID_CLIENT_PRIVATE_KEY_FILE are set',
    ]);
    expect(problems({ ...ext, EXTERNAL_ID_CLIENT_CERTIFICATE_FILE: '/c.pem' })).toEqual([
      'EXTERNAL_ID_CLIENT_PRIVATE_KEY_FILE: EXTERNAL_ID_CLIENT_CERTIFICATE_FILE and EXTERNAL_ID_CLIENT_PRIVATE_KEY_FILE go together',
    ]);
    expect(problems({ ...ext, EXTERNAL_ID_AUTHORITY: 'http://contosoext.ciamlogin.com/' })).toEqual(
      ['EXTERNAL_ID_AUTHORITY: must be a URL (https)'],
    );
    expect(
      problems({
        ...ext,
        EXTERNAL_ID_AUTHORITY: 'https://contosoext.ciamlogin.com/x/oauth2/v2.0',
      })[0],
    ).toMatch(/^EXTERNAL_ID_AUTHORITY: must be https:\/\/<subdomain>\.ciamlogin\.com\//);
    expect(problems({ ...ext, EXTERNAL_ID_CLIENT_ID: 'portal' })).toEqual([
      'EXTERNAL_ID_CLIENT_ID: must be the application (client) id, a GUID',
    ]);
    expect(problems({ ...ext, EXTERNAL_ID_KNOWN_AUTHORITIES: 'localhost:9443,https://x' })).toEqual(
      ['EXTERNAL_ID_KNOWN_AUTHORITIES: entry 2 must be host[:port]'],
    );
    expect(problems({ ...ext, GRAPH_BASE_URL: 'http://graph.microsoft.com' })).toEqual([
      'GRAPH_BASE_URL: must be a URL (https)',
    ]);
  });

  it('turns a ciamlogin authority into the one MSAL uses, and trusts its host by default', () => {
    expect(externalIdAuthorityUrl('https://contosoext.ciamlogin.com/')).toBe(
      'https://contosoext.ciamlogin.com/contosoext.onmicrosoft.com',
    );
    expect(
      externalIdAuthorityUrl(`https://contosoext.ciamlogin.com/${EXTERNAL_ID.tenantId}/`),
    ).toBe(`https://contosoext.ciamlogin.com/${EXTERNAL_ID.tenantId}`);
    expect(externalIdAuthorityUrl(`https://localhost:9443/${EXTERNAL_ID.tenantId}`)).toBe(
      `https://localhost:9443/${EXTERNAL_ID.tenantId}`,
    );

    const a = new ExternalIdAuthority(loadPortalConfig(ext));
    expect(a.metadataUrl(a.flowName('signUpSignIn'))).toBe(
      `https://localhost:9443/${EXTERNAL_ID.tenantId}/v2.0/.well-known/openid-configuration`,
    );
    expect(a.flowName('mfa')).toBe(a.flowName('signUpSignIn')); // no user flows in the URL
    expect(a.knownAuthorities).toEqual(['localhost:9443']);
    expect(a.clientCapabilities).toEqual(['cp1']);
    expect(
      new ExternalIdAuthority(
        loadPortalConfig({ ...ext, EXTERNAL_ID_KNOWN_AUTHORITIES: 'login.contoso.example' }),
      ).knownAuthorities,
    ).toEqual(['login.contoso.example']);
  });
});
