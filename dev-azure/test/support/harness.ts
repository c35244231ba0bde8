// Starts the stand-ins for a test file: a temp data dir, the seed
// configuration (optionally adjusted), TLS from the dev CA.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { seedConfigPath, startDevAzure, type DevAzure, type DevAzureConfigInput } from '../../src';

export interface TestAzure {
  azure: DevAzure;
  dataDir: string;
  config: DevAzureConfigInput;
  /** Stops and starts again on the same data dir and identity port (a restart). */
  restart(): Promise<DevAzure>;
  stop(): Promise<void>;
}

export function seedConfig(): DevAzureConfigInput {
  return JSON.parse(fs.readFileSync(seedConfigPath, 'utf8')) as DevAzureConfigInput;
}

export async function startTestAzure(
  o: { adjust?: (cfg: DevAzureConfigInput) => void; keyVault?: boolean } = {},
): Promise<TestAzure> {
  if (!process.env.NODE_EXTRA_CA_CERTS) {
    throw new Error(
      'NODE_EXTRA_CA_CERTS is not set: run the tests with `npm test` (node ../scripts/with-dev-ca.mjs jest).',
    );
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-azure-test-'));
  const config = seedConfig();
  o.adjust?.(config);
  const start = (identityPort = 0) =>
    startDevAzure({ config, dataDir, keyVault: o.keyVault ?? false, identityPort });
  const t: TestAzure = {
    azure: await start(),
    dataDir,
    config,
    async restart() {
      const port = Number(new URL(t.azure.identityUrl).port);
      await t.azure.stop();
      t.azure = await start(port);
      return t.azure;
    },
    async stop() {
      await t.azure.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return t;
}

/** Seed ids used across tests (from config/dev-azure.json). */
export const seed = {
  contoso: {
    name: 'contoso',
    id: '5d4186f4-4fc8-47c2-beec-4b562b98e183',
    portal: {
      clientId: 'ee83192a-329f-477d-922a-8241a2c16afb',
      secret: 'portal-dev-secret-5f0c9a7e2b',
    },
    policyApi: {
      clientId: '1d5a0a76-3f56-4b6a-a5fa-4dc21dbc0c05',
      uri: 'https://contoso.onmicrosoft.com/policy-api',
    },
    policyDaemon: {
      clientId: 'aff97b82-4dc1-4009-95e5-cce46939e38a',
      secret: 'policy-daemon-dev-secret-3d81e6c4a0',
      oid: 'c6e0ae39-56b6-461c-a184-72461eb8bd6a',
    },
    policyDaemonKvSp: '0cddaa10-05dd-4a48-a16e-53be0828b857',
    alice: {
      email: 'alice@contoso.example',
      password: 'Alice-dev-Passw0rd!',
      oid: '554df49b-d82c-483a-b1bc-7ec8856fd2e0',
    },
    bob: {
      email: 'bob@contoso.example',
      password: 'Bob-dev-Passw0rd!',
      oid: '0e85baaf-7490-4d21-b23a-892d85d2775e',
    },
  },
  contosoext: {
    name: 'contosoext',
    id: '4e1a444d-77f8-471f-a8bf-855567bb2e46',
    portal: {
      clientId: 'c24b384c-bbd7-4ad1-ad44-8d035f870a8d',
      secret: 'portal-ext-dev-secret-8c41d2b7e9',
    },
    policyApi: {
      clientId: 'd1285d1d-863d-4811-bb7a-8755efd310af',
      uri: 'api://d1285d1d-863d-4811-bb7a-8755efd310af',
    },
    /** Migrated from the B2C tenant: carries contoso.alice.oid as extn.legacyB2cObjectId. */
    alice: {
      email: 'alice@contoso.example',
      password: 'Alice-ext-Passw0rd!',
      oid: '8ba502aa-af7e-420f-bb1a-6adf2ed270dc',
    },
    carol: {
      email: 'carol@contoso.example',
      password: 'Carol-ext-Passw0rd!',
      oid: 'd6049cdc-e58d-4be6-8f88-21968d5acdb1',
      phone: '+15550100',
    },
  },
  fabrikam: {
    name: 'fabrikam',
    id: '4b30e2ba-34ea-40b2-ab9b-d03811a8c781',
    tokenBroker: {
      clientId: 'bfedd355-3e26-4d6c-9194-eaa1f4085bd5',
      oid: '87ebd057-bd0e-47d6-ad4d-d31e056883e1',
    },
    scim: { clientId: 'a0aa19ba-0cda-49f4-bada-c4045a72f99f' },
    scimAdmin: {
      clientId: '58b12830-63f2-457b-9970-23a6855499f7',
      secret: 'scim-admin-dev-secret-9b27f1d05c',
      oid: 'a287e0ee-b95f-4109-8f50-52b4d285e9c6',
    },
    policyDaemonKv: { clientId: 'dc2fa15a-04b0-4e40-80ef-370b15ae4ed7' },
  },
  northwind: {
    name: 'northwind',
    id: 'ba6b7c1b-f98e-403a-b58f-a8c425fb5eb4',
    claimsApi: { clientId: 'eb832364-399b-4c5c-8311-d6b83d6d871b' },
    policyDaemonKvSp: '73590691-14af-4fc0-898c-fcd8fcee2f2b',
  },
} as const;

export const REDIRECT_URI = 'https://localhost:8443/auth/redirect';
