import { join } from 'node:path';
import { ConfigError, devOnlyVariables } from '@idp/service-kit';
import type { z } from 'zod';

// Every development-only switch of every service, found through the service-kit registry (not a
// hand-kept list), refused in production by each service's real config loader.
const root = join(__dirname, '..', '..');

interface ServiceConfig {
  schema: z.ZodObject;
  load: (env: NodeJS.ProcessEnv) => unknown;
  /** The smallest environment the loader accepts. */
  base: NodeJS.ProcessEnv;
  /** A value that turns each switch on. */
  on: Record<string, string>;
}

const brokerDoc = JSON.stringify({
  registrations: [
    {
      name: 'api',
      tenantId: '5d4186f4-4fc8-47c2-beec-4b562b98e183',
      clientId: 'dc2fa15a-04b0-4e40-80ef-370b15ae4ed7',
      certificateName: 'api',
    },
  ],
  callers: { svc: [{ registration: 'api', scopes: ['api://x/.default'] }] },
});

const modules = new Map<string, Record<string, unknown>>();

function config(service: Service): ServiceConfig {
  const mod = modules.get(service);
  if (!mod) throw new Error(`services/${service}/dist/config.js not loaded`);
  const pick = <T>(name: string) => mod[name] as T;
  switch (service) {
    case 'portal':
      return {
        schema: pick('envSchema'),
        load: pick('loadPortalConfig'),
        base: {
          NATS_URL: 'nats://127.0.0.1:4222',
          DATABASE_URL: 'postgresql://u:p@127.0.0.1:5432/portal',
          PUBLIC_BASE_URL: 'https://portal.contoso.example',
          POLICY_API_URL: 'http://policy-api:3001',
          POLICY_API_APP_ID_URI: 'https://contoso.onmicrosoft.com/policy-api',
          B2C_AUTHORITY_HOST: 'https://contoso.b2clogin.com',
          B2C_TENANT_DOMAIN: 'contoso.onmicrosoft.com',
          B2C_CLIENT_ID: '11111111-2222-4333-8444-555555555555',
          B2C_CLIENT_SECRET: 'not-a-real-secret',
          SESSION_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
        },
        on: switchesOf.portal,
      };
    case 'policy-api':
      return {
        schema: pick('envSchema'),
        load: pick('loadPolicyApiConfig'),
        base: {
          NATS_URL: 'nats://127.0.0.1:4222',
          DATABASE_URL: 'postgresql://u:p@127.0.0.1:5432/policy',
          B2C_IDENTITY_METADATA:
            'https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signupsignin/v2.0/.well-known/openid-configuration',
          API_AUDIENCE: 'https://contoso.onmicrosoft.com/policy-api',
        },
        on: switchesOf['policy-api'],
      };
    case 'scim':
      return {
        schema: pick('envSchema'),
        load: pick('loadScimConfig'),
        base: {
          NATS_URL: 'nats://127.0.0.1:4222',
          DATABASE_URL: 'postgresql://u:p@127.0.0.1:5432/scim',
        },
        on: switchesOf.scim,
      };
    default:
      return {
        schema: pick('envSchema'),
        load: pick('loadTokenBrokerConfig'),
        base: {
          NATS_URL: 'nats://127.0.0.1:4222',
          KEY_VAULT_URL: 'https://kv-idp.vault.azure.net',
          AZURE_TENANT_ID: 'tenant',
          AZURE_CLIENT_ID: 'client',
          AZURE_FEDERATED_TOKEN_FILE: '/var/run/secrets/azure/tokens/azure-identity-token',
          TOKEN_BROKER_CONFIG: brokerDoc,
        },
        on: switchesOf['token-broker'],
      };
  }
}

const services = ['portal', 'policy-api', 'scim', 'token-broker'] as const;
type Service = (typeof services)[number];
// Known before the modules load, so each switch gets a test of its own.
const switchesOf: Record<Service, Record<string, string>> = {
  portal: { B2C_REDIRECT_URI: 'http://localhost:3000/auth/redirect' },
  'policy-api': { AUTH_ALLOW_INSECURE_HTTP: 'true' },
  scim: { SCIM_ADMIN_ALLOW_INSECURE_HTTP: 'true' },
  'token-broker': {
    KEY_VAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION: 'true',
    AZURE_CREDENTIAL: 'developer',
  },
};
// Names that read like a switch that weakens a check: each must be registered as development-only.
const SWITCH_SHAPED = /INSECURE|DISABLE|ALLOW_|SKIP|UNSAFE|DEV_|DEBUG/;

function refusal(load: () => unknown): string {
  try {
    load();
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  return '';
}

describe('development-only switches', () => {
  beforeAll(async () => {
    for (const s of services)
      modules.set(
        s,
        (await import(join(root, 'services', s, 'dist', 'config.js'))) as Record<string, unknown>,
      );
  });
  it('are exactly the registered ones, and every switch-shaped variable is registered', () => {
    const registered: string[] = [];
    for (const s of services) {
      const c = config(s);
      const marked = [...devOnlyVariables(c.schema).keys()];
      registered.push(...marked.map((v) => `${s}:${v}`));
      const unmarked = Object.keys(c.schema.shape).filter(
        (v) => SWITCH_SHAPED.test(v) && !marked.includes(v),
      );
      expect(unmarked).toEqual([]);
      // Each registered switch has a value in this test that turns it on.
      expect(Object.keys(c.on).sort()).toEqual(marked.sort());
    }
    expect(registered.sort()).toEqual(
      [
        'policy-api:AUTH_ALLOW_INSECURE_HTTP',
        'portal:B2C_REDIRECT_URI',
        'scim:SCIM_ADMIN_ALLOW_INSECURE_HTTP',
        'token-broker:AZURE_CREDENTIAL',
        'token-broker:KEY_VAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION',
      ].sort(),
    );
  });

  describe.each(services)('%s', (service) => {
    it('loads its base environment in production', () => {
      const c = config(service);
      expect(refusal(() => c.load({ ...c.base }))).toBe('');
    });

    it.each(Object.keys(switchesOf[service]))(
      'refuses %s in production (also when NODE_ENV is unset) and allows it in development',
      (name) => {
        const c = config(service);
        const env = { ...c.base, [name]: c.on[name] };
        expect(refusal(() => c.load({ ...env, NODE_ENV: 'production' }))).toMatch(
          new RegExp(`${name}: is development-only \\(.+\\) and refused when NODE_ENV=production`),
        );
        expect(refusal(() => c.load(env))).toMatch(new RegExp(`${name}: is development-only`));
        expect(refusal(() => c.load({ ...env, NODE_ENV: 'development' }))).toBe('');
        expect(refusal(() => c.load({ ...env, NODE_ENV: 'test' }))).toBe('');
      },
    );
  });
});
