// The local topology (scripts/local-topology.mjs) on free ports, for cross-service tests: real
// PostgreSQL, a real nats-server with one user per service and the same subject permissions,
// dev-azure (identity, Key Vault, cluster issuer), and the built services as real processes.
import { startDevAzure, type AppConfig, type DevAzure, type TenantConfig } from '@idp/dev-azure';
import {
  freePort,
  startNats,
  startNode,
  startPostgres,
  waitForHttp,
  type RunningProcess,
  type TestNatsServer,
  type TestPostgres,
} from '@idp/testing';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '..', '..');

export type ServiceName = 'policy-api' | 'scim' | 'token-broker' | 'portal';

interface Permissions {
  publish: string[];
  subscribe: string[];
  responder?: boolean;
}

// A service creates or updates its own stream at boot and publishes its events into it; nothing
// broader ($JS.API.> would let it delete, purge or read every stream, the TOKENS audit included).
const ownStream = (stream: string): string[] => [
  '$JS.API.INFO',
  `$JS.API.STREAM.INFO.${stream}`,
  `$JS.API.STREAM.CREATE.${stream}`,
  `$JS.API.STREAM.UPDATE.${stream}`,
];

/** The services that connect to NATS: the portal publishes and subscribes to nothing and does not. */
type NatsService = Exclude<ServiceName, 'portal'>;

// Same as local-topology.mjs (and the chart's `messaging.permissions`): least privilege per
// service; no portal user, as in the chart.
const SERVICE_USERS: Record<NatsService | 'policy-reader', Permissions> = {
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

// Test-only users: an observer that reads the streams (JetStream API only, publishes no event),
// and a caller the broker's policy does not know (its own subject, like any other service).
const TEST_USERS: Record<'observer' | 'intruder', Permissions> = {
  observer: { publish: ['$JS.API.>'], subscribe: [] },
  intruder: { publish: ['tokens.acquire.v1.intruder'], subscribe: [] },
};

export type NatsUser = keyof typeof SERVICE_USERS | keyof typeof TEST_USERS;

function natsAuthorization(passwords: Record<NatsUser, string>): string {
  const users = Object.entries({ ...SERVICE_USERS, ...TEST_USERS }).map(([user, p]) => {
    const perms = [
      // nats-server reads an empty allow list as "everything": nothing to publish is deny all.
      p.publish.length > 0
        ? `publish: { allow: ${JSON.stringify(p.publish)} }`
        : 'publish: { deny: [">"] }',
      // service-kit (and the CLI) use `_INBOX.<NATS_USER>` as inbox prefix: each user reads only its own replies.
      `subscribe: { allow: ${JSON.stringify([...p.subscribe, `_INBOX.${user}.>`])} }`,
      ...(p.responder ? ['allow_responses: { max: 1, expires: "30s" }'] : []),
    ];
    return `    { user: "${user}", password: "${passwords[user as NatsUser]}", permissions: { ${perms.join(', ')} } }`;
  });
  return ['authorization {', '  users = [', ...users, '  ]', '}'].join('\n');
}

/** Ids of the dev-azure seed (dev-azure/config/dev-azure.json), looked up by name. */
export interface SeedIds {
  contoso: TenantConfig;
  fabrikam: TenantConfig;
  app(tenant: TenantConfig, name: string): AppConfig;
}

export interface Stack {
  pg: TestPostgres;
  nats: TestNatsServer;
  azure: DevAzure;
  seed: SeedIds;
  /** Working directory (dev-azure state, the service-account token file). */
  dir: string;
  /** `http://127.0.0.1:<port>` of a started service. */
  url(service: ServiceName): string;
  /** Connection string of a service's database. */
  databaseUrl(service: 'policy-api' | 'scim' | 'portal'): string;
  proc(service: ServiceName): RunningProcess;
  natsPassword(user: NatsUser): string;
  /** A NATS connection as `user`, with its own inbox prefix (as service-kit does). */
  connect(user: NatsUser): Promise<NatsConnection>;
  stop(): Promise<void>;
}

/** The broker's registrations, as in local-topology.mjs: the Key Vault-backed daemon of the seed. */
function brokerConfig(seed: SeedIds): unknown {
  const certificate = 'policy-daemon'; // keyVault.seedCertificates[0] of the seed
  return {
    registrations: [
      // Cross-tenant: the daemon app lives in fabrikam; the policy API and its app role grant in contoso.
      {
        name: 'policy-daemon',
        tenantId: seed.contoso.id,
        clientId: seed.app(seed.fabrikam, 'policy-daemon-kv').clientId,
        certificateName: certificate,
        assertionAlgorithm: 'PS256',
      },
    ],
    callers: {
      'policy-reader': [{ registration: 'policy-daemon', scopes: ['api://policy-api/.default'] }],
    },
  };
}

export async function startStack(o: {
  services: ServiceName[];
  env?: Partial<Record<ServiceName, Record<string, string>>>;
}): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'system-tests-'));
  const passwords = Object.fromEntries(
    [...Object.keys(SERVICE_USERS), ...Object.keys(TEST_USERS)].map((u) => [
      u,
      randomBytes(18).toString('base64url'),
    ]),
  ) as Record<NatsUser, string>;
  const [pg, nats, azure] = await Promise.all([
    startPostgres(),
    startNats({ config: natsAuthorization(passwords) }),
    startDevAzure({ dataDir: join(dir, 'dev-azure'), identityPort: 0, keyVaultPort: 0 }),
  ]);
  const tenant = (name: string): TenantConfig => {
    const t = azure.config.tenants.find((x) => x.name === name);
    if (!t) throw new Error(`dev-azure seed has no tenant ${name}`);
    return t;
  };
  const seed: SeedIds = {
    contoso: tenant('contoso'),
    fabrikam: tenant('fabrikam'),
    app: (t, name) => {
      const a = t.apps.find((x) => x.name === name);
      if (!a) throw new Error(`dev-azure seed has no app ${t.name}/${name}`);
      return a;
    },
  };

  const procs: Partial<Record<ServiceName, RunningProcess>> = {};
  const connections: NatsConnection[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(connections.map((nc) => nc.close().catch(() => undefined)));
    await Promise.all(Object.values(procs).map((p) => p.stop()));
    await Promise.all([pg.stop(), nats.dispose(), azure.stop()]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    return await startServices();
  } catch (e) {
    await stop();
    throw e;
  }

  async function startServices(): Promise<Stack> {
    const ports = Object.fromEntries(
      await Promise.all(o.services.map(async (s) => [s, await freePort()] as const)),
    ) as Partial<Record<ServiceName, number>>;
    const dbNames = { 'policy-api': 'policy', scim: 'scim', portal: 'portal' } as const;
    const dbUrls: Partial<Record<ServiceName, string>> = {};
    for (const s of o.services)
      if (s !== 'token-broker') dbUrls[s] = await pg.createDatabase(dbNames[s]);
    // What the AKS webhook + kubelet do for the broker: a projected service-account token in a file.
    const tokenFile = join(dir, 'token-broker', 'azure-identity-token');
    if (o.services.includes('token-broker'))
      await azure.clusterIssuer.writeServiceAccountToken(
        tokenFile,
        'identity-platform',
        'token-broker',
      );

    const idp = azure.identityUrl;
    const common = (name: ServiceName): Record<string, string> => ({
      NODE_ENV: 'development',
      PORT: String(ports[name]),
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      ...(name === 'portal'
        ? {}
        : { NATS_URL: nats.url, NATS_USER: name, NATS_PASSWORD: passwords[name] }),
      ...(dbUrls[name] ? { DATABASE_URL: dbUrls[name], MIGRATE_ON_START: 'true' } : {}),
    });
    const b2c = (flow: string) =>
      `${idp}/${seed.contoso.name}.onmicrosoft.com/${flow}/v2.0/.well-known/openid-configuration`;
    const policyApiApp = seed.app(seed.contoso, 'policy-api');
    const envOf: Record<ServiceName, () => Record<string, string>> = {
      // API_BASE_PATH stays unset (routes at the root): local-topology's /api prefix serves its entry proxy.
      'policy-api': () => ({
        ...common('policy-api'),
        B2C_IDENTITY_METADATA: [b2c('b2c_1_signupsignin'), b2c('b2c_1_signupsignin_mfa')].join(','),
        APP_IDENTITY_METADATA: [seed.contoso.id, seed.fabrikam.id]
          .map((t) => `${idp}/${t}/v2.0/.well-known/openid-configuration`)
          .join(','),
        API_AUDIENCE: [policyApiApp.clientId, ...policyApiApp.identifierUris].join(','),
        STEP_UP_USER_FLOWS: 'B2C_1_signupsignin_mfa',
        OUTBOX_INTERVAL_MS: '50',
      }),
      scim: () => {
        const scimApp = seed.app(seed.fabrikam, 'scim');
        return {
          ...common('scim'),
          SCIM_ADMIN_IDENTITY_METADATA: `${idp}/${seed.fabrikam.id}/v2.0/.well-known/openid-configuration`,
          // One audience (scim reads no list): the client id, which is the `aud` of Entra v2.0 app tokens.
          SCIM_ADMIN_AUDIENCE: scimApp.clientId,
          SCIM_OUTBOX_INTERVAL_MS: '50',
        };
      },
      'token-broker': () => ({
        ...common('token-broker'),
        KEY_VAULT_URL: azure.keyVaultUrl,
        ENTRA_AUTHORITY_HOST: idp,
        AZURE_CREDENTIAL: 'workload',
        AZURE_AUTHORITY_HOST: idp,
        AZURE_TENANT_ID: seed.fabrikam.id,
        AZURE_CLIENT_ID: seed.app(seed.fabrikam, 'token-broker').clientId,
        AZURE_FEDERATED_TOKEN_FILE: tokenFile,
        // Development only: a vault on localhost can't answer a challenge for vault.azure.net.
        KEY_VAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION: 'true',
        TOKEN_BROKER_CONFIG: JSON.stringify(brokerConfig(seed)),
      }),
      portal: () => {
        const portalApp = seed.app(seed.contoso, 'portal');
        return {
          ...common('portal'),
          PUBLIC_BASE_URL: `https://localhost:${ports.portal}`,
          // Without policy-api in the stack: an address nothing answers on (the portal boots regardless).
          POLICY_API_URL: ports['policy-api']
            ? `http://127.0.0.1:${ports['policy-api']}`
            : 'http://127.0.0.1:9',
          POLICY_API_APP_ID_URI: policyApiApp.identifierUris[0] ?? '',
          B2C_AUTHORITY_HOST: idp,
          B2C_TENANT_DOMAIN: `${seed.contoso.name}.onmicrosoft.com`,
          B2C_CLIENT_ID: portalApp.clientId,
          B2C_CLIENT_SECRET: portalApp.secrets[0]?.value ?? '',
          SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        };
      },
    };

    for (const s of o.services)
      procs[s] = startNode(join(repoRoot, 'services', s, 'dist', 'main.js'), {
        ...envOf[s](),
        ...o.env?.[s],
      });
    // Ready means NATS (and the database or Key Vault) answered: streams exist, migrations ran.
    await Promise.all(
      o.services.map((s) =>
        waitForHttp(`http://127.0.0.1:${ports[s]}/readyz`, { proc: procs[s], timeoutMs: 90_000 }),
      ),
    );

    const need = <T>(v: T | undefined, what: string): T => {
      if (v === undefined) throw new Error(`${what} was not started in this stack`);
      return v;
    };
    return {
      pg,
      nats,
      azure,
      seed,
      dir,
      url: (s) => `http://127.0.0.1:${need(ports[s], s)}`,
      databaseUrl: (s) => need(dbUrls[s], s),
      proc: (s) => need(procs[s], s),
      natsPassword: (u) => passwords[u],
      async connect(user) {
        const nc = await connect({
          servers: nats.url,
          user,
          pass: passwords[user],
          inboxPrefix: `_INBOX.${user}`,
          name: `system-tests:${user}`,
        });
        connections.push(nc);
        return nc;
      },
      stop,
    };
  }
}
