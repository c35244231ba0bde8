import { freePort, startNats, startNode, waitForHttp, type TestNatsServer } from '@idp/testing';
import { join } from 'node:path';

const entry = join(__dirname, '..', '..', 'dist', 'main.js');

const brokerDoc = JSON.stringify({
  registrations: [
    { name: 'policy-daemon', tenantId: 't1', clientId: 'c1', certificateName: 'policy-daemon' },
  ],
  callers: {
    'policy-reader': [{ registration: 'policy-daemon', scopes: ['api://policy-api/.default'] }],
  },
});

describe('token-broker process', () => {
  let nats: TestNatsServer;
  beforeAll(async () => {
    nats = await startNats();
  });
  afterAll(async () => {
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

  it('boots, answers health, reports an unreachable Key Vault and NATS loss in readiness, and drains on SIGTERM', async () => {
    const port = await freePort();
    const p = startNode(entry, {
      PORT: String(port),
      NATS_URL: nats.url,
      KEY_VAULT_URL: `https://127.0.0.1:${await freePort()}`,
      AZURE_TENANT_ID: 'tenant',
      AZURE_CLIENT_ID: 'client',
      AZURE_FEDERATED_TOKEN_FILE: '/nonexistent/token',
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
