import { freePort, startNats, startNode, waitForHttp, type TestNatsServer } from '@idp/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const entry = join(__dirname, '..', '..', 'dist', 'main.js');

const brokerDoc = JSON.stringify({
  registrations: [
    {
      name: 'policy-daemon',
      tenantId: '5d4186f4-4fc8-47c2-beec-4b562b98e183',
      clientId: 'dc2fa15a-04b0-4e40-80ef-370b15ae4ed7',
      certificateName: 'policy-daemon',
    },
  ],
  callers: {
    'policy-reader': [{ registration: 'policy-daemon', scopes: ['api://policy-api/.default'] }],
  },
});

describe('token-broker process', () => {
  let nats: TestNatsServer;
  const dir = mkdtempSync(join(tmpdir(), 'token-broker-boot-'));
  /** A projected service-account token as kubelet writes it (its content is not checked at start). */
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 'eyJ.projected.token');
  beforeAll(async () => {
    nats = await startNats();
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await nats.dispose();
  });

  it('refuses to start naming each missing or malformed variable (and never asks for a database)', async () => {
    const p = startNode(entry, {
      NATS_URL: 'http://nope',
      PORT: 'abc',
      KEY_VAULT_URL: 'http://vault',
    });
    expect(await p.exited).toBe(1);
    const out = p.output();
    expect(out).toMatch(/NATS_URL: must be a URL \(nats/);
    expect(out).toMatch(/PORT: must be a port number/);
    expect(out).toMatch(/KEY_VAULT_URL: must be a URL \(https\)/);
    expect(out).toMatch(/TOKEN_BROKER_CONFIG: set exactly one of/);
    expect(out).toMatch(/AZURE_FEDERATED_TOKEN_FILE: is required but not set/);
    expect(out).not.toMatch(/DATABASE_URL/);
  });

  it('refuses a registrations document that names an unknown registration', async () => {
    const bad = JSON.stringify({
      registrations: [{ name: 'a', tenantId: 't', clientId: 'c', certificateName: 'x' }],
      callers: { svc: [{ registration: 'b', scopes: ['api://x/.default'] }] },
    });
    const p = startNode(entry, {
      NATS_URL: nats.url,
      KEY_VAULT_URL: 'https://127.0.0.1:1',
      AZURE_CREDENTIAL: 'developer',
      NODE_ENV: 'development',
      TOKEN_BROKER_CONFIG: bad,
    });
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(
      /TOKEN_BROKER_CONFIG: callers\.svc\.0\.registration: unknown registration b/,
    );
  });

  it('refuses URLs that are not bare https origins, and registrations documents with misspelt or repeated members, naming the variable', async () => {
    const registration = {
      name: 'a',
      tenantId: '5d4186f4-4fc8-47c2-beec-4b562b98e183',
      clientId: 'dc2fa15a-04b0-4e40-80ef-370b15ae4ed7',
      certificateName: 'x',
    };
    const start = (env: Record<string, string>) =>
      startNode(entry, {
        NATS_URL: nats.url,
        KEY_VAULT_URL: 'https://kv.vault.azure.net',
        AZURE_TENANT_ID: 'tenant',
        AZURE_CLIENT_ID: 'client',
        AZURE_FEDERATED_TOKEN_FILE: tokenFile,
        TOKEN_BROKER_CONFIG: JSON.stringify({ registrations: [registration], callers: {} }),
        ...env,
      });
    const cases: Array<[Record<string, string>, RegExp]> = [
      [
        { ENTRA_AUTHORITY_HOST: 'https://login.microsoftonline.com/x?y=1' },
        /ENTRA_AUTHORITY_HOST: must be an https origin/,
      ],
      [
        { AZURE_AUTHORITY_HOST: 'https://user:pw@login.microsoftonline.com/' },
        /AZURE_AUTHORITY_HOST: must be an https origin/,
      ],
      [
        { KEY_VAULT_URL: 'https://kv.vault.azure.net/keys' },
        /KEY_VAULT_URL: must be an https origin/,
      ],
      [
        {
          TOKEN_BROKER_CONFIG: JSON.stringify({
            registrations: [{ ...registration, assertionAlgoritm: 'RS256' }],
            callers: {},
          }),
        },
        /TOKEN_BROKER_CONFIG: registrations\.0: Unrecognized key: "assertionAlgoritm"/,
      ],
      [
        {
          TOKEN_BROKER_CONFIG: `{"registrations":[${JSON.stringify(registration)}],"callers":{"svc":[{"registration":"a","scopes":["api://x/.default"]}],"svc":[]}}`,
        },
        /TOKEN_BROKER_CONFIG: member "svc" given twice/,
      ],
      [
        {
          TOKEN_BROKER_CONFIG: JSON.stringify({
            registrations: [{ ...registration, tenantId: 'common', clientId: 'my app' }],
            callers: {},
          }),
        },
        /TOKEN_BROKER_CONFIG: registrations\.0\.tenantId: must be a tenant id[\s\S]*registrations\.0\.clientId: must be a GUID/,
      ],
      [
        { UPSTREAM_RETRY_ATTEMPTS: '1000000', RETRY_MAX_DELAY_MS: '100000000' },
        /UPSTREAM_RETRY_ATTEMPTS: must be at most 10[\s\S]*RETRY_MAX_DELAY_MS: must be at most 60000/,
      ],
      [
        { RETRY_BASE_DELAY_MS: '5000', RETRY_MAX_DELAY_MS: '1000' },
        /RETRY_BASE_DELAY_MS: must not exceed RETRY_MAX_DELAY_MS \(5000 > 1000\)/,
      ],
      [
        { AZURE_FEDERATED_TOKEN_FILE: join(dir, 'missing') },
        /AZURE_FEDERATED_TOKEN_FILE: cannot read file \(ENOENT\)/,
      ],
    ];
    writeFileSync(join(dir, 'empty'), '');
    cases.push([
      { AZURE_FEDERATED_TOKEN_FILE: join(dir, 'empty') },
      /AZURE_FEDERATED_TOKEN_FILE: the file is empty/,
    ]);
    await Promise.all(
      cases.map(async ([env, message]) => {
        const p = start(env);
        expect(await p.exited).toBe(1);
        expect(p.output()).toMatch(message);
      }),
    );
  });

  it('boots, answers health, reports an unreachable Key Vault and NATS loss in readiness, and drains on SIGTERM', async () => {
    const port = await freePort();
    const p = startNode(entry, {
      PORT: String(port),
      NATS_URL: nats.url,
      KEY_VAULT_URL: `https://127.0.0.1:${await freePort()}`,
      AZURE_TENANT_ID: 'tenant',
      AZURE_CLIENT_ID: 'client',
      AZURE_FEDERATED_TOKEN_FILE: tokenFile,
      AZURE_AUTHORITY_HOST: `https://127.0.0.1:${await freePort()}`,
      TOKEN_BROKER_CONFIG: brokerDoc,
      LOG_LEVEL: 'info',
    });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/healthz`, { proc: p });
      const notReady = await waitForHttp(`http://127.0.0.1:${port}/readyz`, {
        status: 503,
        proc: p,
      });
      const body = (await notReady.json()) as { checks: Record<string, string> };
      expect(body.checks).toEqual({ nats: 'ok', keyvault: 'not reached yet' });
      await nats.stop();
      const down = await waitForHttp(`http://127.0.0.1:${port}/readyz`, { status: 503, proc: p });
      expect(((await down.json()) as { checks: Record<string, string> }).checks.nats).not.toBe(
        'ok',
      );
      await nats.start();
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toMatch(/token_broker_issued_total/);
    } finally {
      expect(await p.stop('SIGTERM')).toBe(0);
    }
    for (const line of p.output().trim().split('\n'))
      if (!line.startsWith('(node:')) expect(() => JSON.parse(line)).not.toThrow();
  });
});
