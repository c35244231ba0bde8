// What `npm run up` starts and how it wires it: ports, databases, NATS users with the same
// subject permissions as the Helm chart, and each service's environment (from the
// dev-azure seed config, so ids and secrets live in one place).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const seed = JSON.parse(readFileSync(path.join(root, 'dev-azure/config/dev-azure.json'), 'utf8'));
const tenant = (name) => seed.tenants.find((t) => t.name === name);
const app = (t, name) => tenant(t).apps.find((a) => a.name === name);

const contoso = tenant('contoso');
const contosoext = tenant('contosoext');
const fabrikam = tenant('fabrikam');
const portalApp = app('contoso', 'portal');
const policyApiApp = app('contoso', 'policy-api');
const extPortalApp = app('contosoext', 'portal');
const extPolicyApiApp = app('contosoext', 'policy-api');
const scimApp = app('fabrikam', 'scim');
const brokerApp = app('fabrikam', 'token-broker');
const flows = Object.fromEntries(contoso.userFlows.map((f) => [f.name.toLowerCase(), f.name]));

/** Generated once into .dev/ and reused, so sessions and NATS users survive a restart. */
function devSecret(dev, file, make) {
  const p = path.join(dev, 'secrets', file);
  mkdirSync(path.dirname(p), { recursive: true, mode: 0o700 });
  if (!existsSync(p)) writeFileSync(p, make(), { mode: 0o600 });
  return readFileSync(p, 'utf8').trim();
}
/** The customer identity provider the portal signs in with: `--provider b2c|external-id` or UP_IDENTITY_PROVIDER. */
export function identityProviderOf(argv = process.argv, env = process.env) {
  const i = argv.findIndex((a) => a === '--provider' || a.startsWith('--provider='));
  const value =
    i < 0
      ? (env.UP_IDENTITY_PROVIDER ?? 'b2c')
      : argv[i].includes('=')
        ? argv[i].split('=')[1]
        : argv[i + 1];
  if (value !== 'b2c' && value !== 'external-id')
    throw new Error(
      `unknown identity provider ${JSON.stringify(value)}: use --provider b2c or --provider external-id`,
    );
  return value;
}

const natsPassword = (dev, user) =>
  devSecret(dev, `nats-${user}`, () => randomBytes(24).toString('base64url'));

// A service creates or updates its own stream at boot and publishes its events into it; nothing
// broader ($JS.API.> would let it delete, purge or read every stream, the TOKENS audit included).
const ownStream = (stream) => [
  '$JS.API.INFO',
  `$JS.API.STREAM.INFO.${stream}`,
  `$JS.API.STREAM.CREATE.${stream}`,
  `$JS.API.STREAM.UPDATE.${stream}`,
];

// Mirrors helm/identity-platform values `messaging.permissions`: least privilege per service.
// The portal is not here: it publishes and subscribes to nothing and does not connect to NATS.
const natsUsers = {
  'policy-api': { publish: ['policy.>', ...ownStream('POLICY')], subscribe: [] },
  scim: { publish: ['scim.>', ...ownStream('SCIM')], subscribe: [] },
  'token-broker': {
    publish: ['tokens.issued.>', ...ownStream('TOKENS')],
    subscribe: [
      'tokens.acquire.v1.*',
      '$SRV.PING',
      '$SRV.INFO',
      '$SRV.STATS',
      '$SRV.*.token-broker',
      '$SRV.*.token-broker.*',
    ],
    responder: true,
  },
  // The secretless daemon (token-broker's policy-reader CLI): may only ask for its own tokens.
  'policy-reader': { publish: ['tokens.acquire.v1.policy-reader'], subscribe: [] },
};

export const topology = {
  ports: {
    identity: 9443,
    keyVault: 9444,
    nats: 4222,
    postgres: 55432,
    portal: 3000,
    'policy-api': 3001,
    scim: 3002,
    'token-broker': 3003,
  },
  databases: ['portal', 'policy', 'scim'],

  /** `npm run up -- --traces`: Jaeger v2's all-in-one defaults (OTLP/HTTP 4318, UI 16686, health 13133). */
  jaeger: {
    uiUrl: 'http://localhost:16686/',
    healthUrl: 'http://localhost:13133/status',
    // The standard variables alone switch tracing on in every service (service-kit telemetry).
    serviceEnv: {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    },
  },

  natsConfig({ port, storeDir }) {
    const dev = path.dirname(storeDir);
    const users = Object.entries(natsUsers).map(([user, p]) => {
      const perms = [
        // nats-server reads an empty allow list as "everything": nothing to publish is deny all.
        p.publish.length > 0
          ? `publish: { allow: ${JSON.stringify(p.publish)} }`
          : 'publish: { deny: [">"] }',
        `subscribe: { allow: ${JSON.stringify([...p.subscribe, `_INBOX.${user}.>`])} }`,
        ...(p.responder ? ['allow_responses: { max: 1, expires: "30s" }'] : []),
      ];
      return `    { user: "${user}", password: "${natsPassword(dev, user)}", permissions: { ${perms.join(', ')} } }`;
    });
    return [
      `listen: 127.0.0.1:${port}`,
      `jetstream { store_dir: "${storeDir}" }`,
      'authorization {',
      '  users = [',
      users.join('\n'),
      '  ]',
      '}',
      '',
    ].join('\n');
  },

  devAzureEnv({ ports, dev }) {
    return {
      DEV_AZURE_IDENTITY_PORT: String(ports.identity),
      DEV_AZURE_KEYVAULT_PORT: String(ports.keyVault),
      DEV_AZURE_DATA_DIR: path.join(dev, 'dev-azure'),
      // The local "cluster issuer" keeps a projected service-account token here, as AKS does.
      DEV_AZURE_SA_TOKEN_FILE: path.join(dev, 'token-broker', 'azure-identity-token'),
      DEV_AZURE_SERVICE_ACCOUNT: 'identity-platform:token-broker',
    };
  },

  routes(ports) {
    // Same paths as the chart's Ingress; /api and /scim are served under their prefixes.
    return [
      { prefix: '/api', upstream: `http://127.0.0.1:${ports['policy-api']}` },
      { prefix: '/scim', upstream: `http://127.0.0.1:${ports.scim}` },
      { prefix: '/', upstream: `http://127.0.0.1:${ports.portal}` },
    ];
  },

  services: [
    {
      name: 'policy-api',
      env: ({ ports, dev, dbUrl }) => {
        const idp = `https://localhost:${ports.identity}`;
        const b2c = (flow) =>
          `${idp}/${contoso.name}.onmicrosoft.com/${flow}/v2.0/.well-known/openid-configuration`;
        return {
          ...common('policy-api', ports, dev, dbUrl('policy')),
          API_BASE_PATH: '/api',
          B2C_IDENTITY_METADATA: [
            b2c(flows.b2c_1_signupsignin),
            b2c(flows.b2c_1_signupsignin_mfa),
          ].join(','),
          APP_IDENTITY_METADATA: `${idp}/${contoso.id}/v2.0/.well-known/openid-configuration,${idp}/${fabrikam.id}/v2.0/.well-known/openid-configuration`,
          API_AUDIENCE: [policyApiApp.clientId, ...(policyApiApp.identifierUris ?? [])].join(','),
          STEP_UP_USER_FLOWS: flows.b2c_1_signupsignin_mfa,
          // Migration window: External ID tokens (contosoext) are trusted beside B2C's, whichever the portal uses.
          EXTERNAL_ID_TENANT_ID: contosoext.id,
          EXTERNAL_ID_METADATA: `${idp}/${contosoext.id}/v2.0/.well-known/openid-configuration`,
          EXTERNAL_ID_AUDIENCE: [
            extPolicyApiApp.clientId,
            ...(extPolicyApiApp.identifierUris ?? []),
          ].join(','),
          LEGACY_OBJECT_ID_CLAIM: contosoext.legacyIdClaim ?? 'extn.legacyB2cObjectId',
          STEP_UP_AUTH_CONTEXT: contosoext.authenticationContexts?.[0]?.id ?? 'c1',
        };
      },
    },
    {
      name: 'scim',
      env: ({ ports, dev, dbUrl }) => ({
        ...common('scim', ports, dev, dbUrl('scim')),
        // Location, meta.location and $ref on the entry point's origin, as the chart sets it from
        // the ingress host: never from a Host / X-Forwarded-Host a client chose.
        SCIM_PUBLIC_BASE_URL: `https://localhost:${ports.entry}`,
        SCIM_ADMIN_IDENTITY_METADATA: `https://localhost:${ports.identity}/${fabrikam.id}/v2.0/.well-known/openid-configuration`,
        // Entra v2.0 app tokens carry the client id as audience, v1.0 ones the App ID URI.
        SCIM_ADMIN_AUDIENCE: [scimApp.clientId, ...(scimApp.identifierUris ?? [])].join(','),
      }),
    },
    {
      name: 'token-broker',
      env: ({ ports, dev }) => {
        const {
          DATABASE_URL: _d,
          MIGRATE_ON_START: _m,
          ...rest
        } = common('token-broker', ports, dev, '');
        return {
          ...rest,
          KEY_VAULT_URL: `https://localhost:${ports.keyVault}`,
          ENTRA_AUTHORITY_HOST: `https://localhost:${ports.identity}`,
          AZURE_CREDENTIAL: 'workload',
          AZURE_AUTHORITY_HOST: `https://localhost:${ports.identity}`,
          AZURE_TENANT_ID: fabrikam.id,
          AZURE_CLIENT_ID: brokerApp.clientId,
          AZURE_FEDERATED_TOKEN_FILE: path.join(dev, 'token-broker', 'azure-identity-token'),
          // Development only: a vault on localhost can't answer a challenge for vault.azure.net.
          KEY_VAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION: 'true',
          TOKEN_BROKER_CONFIG: JSON.stringify(brokerConfig()),
        };
      },
    },
    {
      name: 'portal',
      env: ({ ports, dev, dbUrl, provider = 'b2c' }) => ({
        ...common('portal', ports, dev, dbUrl('portal')),
        PUBLIC_BASE_URL: `https://localhost:${ports.entry}`,
        POLICY_API_URL: `http://127.0.0.1:${ports['policy-api']}/api`,
        ...(provider === 'external-id'
          ? {
              CUSTOMER_IDENTITY_PROVIDER: 'external-id',
              POLICY_API_APP_ID_URI: extPolicyApiApp.identifierUris[0],
              // Azure: https://<subdomain>.ciamlogin.com/ (the stand-in serves the tenant on its own origin).
              EXTERNAL_ID_AUTHORITY: `https://localhost:${ports.identity}/${contosoext.id}`,
              EXTERNAL_ID_CLIENT_ID: extPortalApp.clientId,
              EXTERNAL_ID_CLIENT_SECRET: extPortalApp.secrets[0].value,
              GRAPH_BASE_URL: `https://localhost:${ports.identity}`,
            }
          : {
              POLICY_API_APP_ID_URI: policyApiApp.identifierUris[0],
              B2C_AUTHORITY_HOST: `https://localhost:${ports.identity}`,
              B2C_TENANT_DOMAIN: `${contoso.name}.onmicrosoft.com`,
              B2C_CLIENT_ID: portalApp.clientId,
              B2C_CLIENT_SECRET: portalApp.secrets[0].value,
            }),
        SESSION_ENCRYPTION_KEY: devSecret(dev, 'portal-session-key', () =>
          randomBytes(32).toString('base64'),
        ),
      }),
    },
  ],

  natsPassword,

  /** Sign-in accounts of the provider's tenant, as `email / password` (migrated users marked). */
  demoUsers(provider) {
    const t = provider === 'external-id' ? contosoext : contoso;
    return (t.users ?? []).map(
      (u) => `${u.email} / ${u.password}${u.legacyB2cObjectId ? ' (migrated from B2C)' : ''}`,
    );
  },
};

/** The broker's registrations for the local stack: the Key Vault-backed daemon of the seed. */
function brokerConfig() {
  const daemon = app('fabrikam', 'policy-daemon-kv');
  const certificate = seed.keyVault.seedCertificates[0].name;
  return {
    registrations: [
      // Cross-tenant: the daemon app lives in fabrikam; the policy API and its app role grant in contoso.
      {
        name: 'policy-daemon',
        tenantId: contoso.id,
        clientId: daemon.clientId,
        certificateName: certificate,
        assertionAlgorithm: 'PS256',
      },
    ],
    callers: {
      'policy-reader': [{ registration: 'policy-daemon', scopes: ['api://policy-api/.default'] }],
    },
  };
}

function common(name, ports, dev, databaseUrl) {
  return {
    NODE_ENV: 'development',
    PORT: String(ports[name]),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    ...(name in natsUsers
      ? {
          NATS_URL: `nats://127.0.0.1:${ports.nats}`,
          NATS_USER: name,
          NATS_PASSWORD: natsPassword(dev, name),
        }
      : {}),
    DATABASE_URL: databaseUrl,
    MIGRATE_ON_START: 'true',
  };
}
