// One offline world for the tests: dev-azure (identity + Key Vault + cluster issuer), a real
// nats-server with per-service users, and the workload identity token file.
import { ensureStreams } from '@idp/contracts';
import { startNats, type TestNatsServer } from '@idp/testing';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { startDevAzure, type DevAzure } from '@idp/dev-azure';
import { NATS_CONNECTION } from '@idp/service-kit';
import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AuditPublisher } from '../../src/audit/audit-publisher';
import { BrokerModule } from '../../src/broker/broker.module';
import { CLOCK, ENTRA_FETCH, METRICS_REGISTRY, SLEEP } from '../../src/broker/broker.tokens';
import type { Sleep } from '../../src/broker/retry';
import { TokenBroker } from '../../src/broker/token-broker';
import { TokenCache } from '../../src/cache/token-cache';
import { loadTokenBrokerConfig } from '../../src/config';
import type { FetchLike } from '../../src/entra/token-endpoint';
import { BrokerMetrics } from '../../src/metrics/broker-metrics';
import { AcquireService } from '../../src/nats/acquire-service';
import type { BrokerConfigDoc } from '../../src/registrations/broker-config';
import {
  BROKER_INBOX_PREFIX,
  BROKER_USER,
  callerPassword,
  natsAuthorization,
  type Caller,
} from './nats-users';
import { CERTIFICATE, CLAIMS_SCOPE, ids, POLICY_SCOPE, POLICY_SCOPE_BY_ID } from './seed';

export const brokerDoc: BrokerConfigDoc = {
  registrations: [
    // Cross-tenant: the daemon app lives in fabrikam; the policy API (and its app role grant) in contoso.
    {
      name: 'policy-daemon',
      tenantId: ids.contoso,
      clientId: ids.daemon,
      certificateName: CERTIFICATE,
      assertionAlgorithm: 'PS256',
    },
    {
      name: 'policy-daemon-legacy',
      tenantId: ids.contoso,
      clientId: ids.daemon,
      certificateName: CERTIFICATE,
      assertionAlgorithm: 'RS256',
    },
    {
      name: 'northwind-claims',
      tenantId: ids.northwind,
      clientId: ids.daemon,
      certificateName: CERTIFICATE,
      assertionAlgorithm: 'PS256',
    },
  ],
  callers: {
    'policy-reader': [
      // Two spellings of the policy API's scope: two cached tokens that share one assertion.
      { registration: 'policy-daemon', scopes: [POLICY_SCOPE, POLICY_SCOPE_BY_ID] },
      { registration: 'policy-daemon-legacy', scopes: [POLICY_SCOPE] },
    ],
    'claims-sync': [{ registration: 'northwind-claims', scopes: [CLAIMS_SCOPE] }],
  },
};

export interface Stack {
  dev: DevAzure;
  nats: TestNatsServer;
  tokenFile: string;
  dataDir: string;
  /** Environment of a broker process (or of loadConfig in-process). */
  brokerEnv(extra?: Record<string, string>): Record<string, string>;
  connectAs(user: Caller): Promise<NatsConnection>;
  connectBroker(): Promise<NatsConnection>;
  stop(): Promise<void>;
}

export async function startStack(): Promise<Stack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'token-broker-'));
  const dev = await startDevAzure({ dataDir });
  const nats = await startNats({ config: natsAuthorization() });
  // What the AKS webhook + kubelet do: a projected service-account token in a file.
  const tokenFile = join(dataDir, 'sa', 'token');
  await dev.clusterIssuer.writeServiceAccountToken(tokenFile, 'identity-platform', 'token-broker');
  const open: NatsConnection[] = [];
  const track = (nc: NatsConnection) => (open.push(nc), nc);
  return {
    dev,
    nats,
    tokenFile,
    dataDir,
    brokerEnv: (extra = {}) => ({
      NATS_URL: nats.url,
      NATS_USER: BROKER_USER.user,
      NATS_PASSWORD: BROKER_USER.password,
      KEY_VAULT_URL: dev.keyVaultUrl,
      AZURE_AUTHORITY_HOST: dev.authorityHost,
      AZURE_TENANT_ID: ids.fabrikam,
      AZURE_CLIENT_ID: ids.broker,
      AZURE_FEDERATED_TOKEN_FILE: tokenFile,
      KEY_VAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION: 'true',
      NODE_ENV: 'test',
      TOKEN_BROKER_CONFIG: JSON.stringify(brokerDoc),
      ...extra,
    }),
    connectAs: async (user) =>
      track(
        await connect({
          servers: nats.url,
          user,
          pass: callerPassword(user),
          inboxPrefix: `_INBOX.${user}`,
        }),
      ),
    connectBroker: async () =>
      track(
        await connect({
          servers: nats.url,
          user: BROKER_USER.user,
          pass: BROKER_USER.password,
          inboxPrefix: BROKER_INBOX_PREFIX,
        }),
      ),
    async stop() {
      await Promise.all(open.map((nc) => nc.close().catch(() => undefined)));
      await nats.dispose();
      await dev.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Counts token endpoint calls and lets a test answer some of them itself (outages, throttling). */
export class EntraTap {
  calls = 0;
  private readonly faults: Array<() => Response> = [];
  private readonly reshapes: Array<(body: Record<string, unknown>) => Record<string, unknown>> = [];
  down?: () => Response;

  private gate?: Promise<void>;
  /** Where the next real call goes instead of Entra (the broker's own request, unchanged). */
  redirectNextTo?: string;

  readonly fetch: FetchLike = async (url, init) => {
    this.calls++;
    await this.gate;
    const fault = this.faults.shift() ?? this.down;
    if (fault) return fault();
    const elsewhere = this.redirectNextTo;
    this.redirectNextTo = undefined;
    if (elsewhere) return fetch(elsewhere, init);
    const reshape = this.reshapes.shift();
    if (!reshape) return fetch(url, init);
    const real = await fetch(url, init);
    const body = reshape((await real.json()) as Record<string, unknown>);
    return new Response(JSON.stringify(body), { status: real.status, headers: real.headers });
  };

  /** The next `n` calls reach Entra, and its JSON answer is changed by `change` on the way back. */
  reshapeNext(n: number, change: (body: Record<string, unknown>) => Record<string, unknown>): void {
    for (let i = 0; i < n; i++) this.reshapes.push(change);
  }

  /** The next `n` calls get `make()` instead of reaching Entra. */
  failNext(n: number, make: () => Response): void {
    for (let i = 0; i < n; i++) this.faults.push(make);
  }

  /** Token requests wait at the tap (already counted) until the returned function is called. */
  hold(): () => void {
    let release = (): void => undefined;
    this.gate = new Promise((r) => (release = r));
    return () => {
      this.gate = undefined;
      release();
    };
  }

  clearFaults(): void {
    this.faults.length = 0;
    this.reshapes.length = 0;
    this.down = undefined;
  }
}

/** What fetch does when Entra cannot be reached (DNS, refused, reset). */
export const entraUnreachable = (): never => {
  throw new TypeError('fetch failed');
};

export const entraError = (
  status: number,
  code?: number,
  headers: Record<string, string> = {},
): Response =>
  new Response(
    JSON.stringify({
      error: status >= 500 ? 'temporarily_unavailable' : 'invalid_request',
      error_description: code ? `AADSTS${code}: simulated.` : 'simulated',
      ...(code ? { error_codes: [code] } : {}),
    }),
    {
      status,
      headers: { 'content-type': 'application/json', ...headers },
    },
  );

export interface InProcessBroker {
  broker: TokenBroker;
  cache: TokenCache;
  audit: AuditPublisher;
  metrics: BrokerMetrics;
  tap: EntraTap;
  sleeps: number[];
  /** Backoff sleeps really wait up to this many ms (default 0: recorded, not waited). */
  sleepCapMs: number;
  /** Moves the broker's clock (cache and expiry) forward. */
  advance(ms: number): void;
  /** How far the broker's clock is ahead of the real one (ms). */
  offset(): number;
  stop(): Promise<void>;
}

/** The broker wired as in production (its Nest providers: real SDKs, Key Vault, Entra, NATS) with a movable clock. */
export async function startInProcessBroker(
  stack: Stack,
  o: { retries?: number; env?: Record<string, string> } = {},
): Promise<InProcessBroker> {
  const config = loadTokenBrokerConfig(
    stack.brokerEnv({
      UPSTREAM_RETRY_ATTEMPTS: String(o.retries ?? 4),
      REPLICATION_RETRY_ATTEMPTS: '3',
      RETRY_BASE_DELAY_MS: '100',
      RETRY_MAX_DELAY_MS: '2000',
      REFRESH_MARGIN_SECONDS: '300',
      ...o.env,
    }),
  );
  const tap = new EntraTap();
  let offset = 0;
  const sleeps: number[] = [];
  const control = { sleepCapMs: 0 };
  const sleep: Sleep = async (ms) => {
    sleeps.push(ms);
    // Backoffs are recorded; only a test that needs real waiting (the vault's token bucket) waits.
    if (control.sleepCapMs > 0)
      await new Promise((r) => setTimeout(r, Math.min(ms, control.sleepCapMs)));
  };
  const nc = await stack.connectBroker();
  await ensureStreams(await jetstreamManager(nc), ['TOKENS']);
  // What service-kit provides (globally) in the app: the broker's NATS connection.
  @Module({ providers: [{ provide: NATS_CONNECTION, useValue: nc }], exports: [NATS_CONNECTION] })
  class TestNatsModule {}
  const app = await Test.createTestingModule({
    imports: [{ module: TestNatsModule, global: true }, BrokerModule.forRoot(config)],
  })
    .overrideProvider(ENTRA_FETCH)
    .useValue(tap.fetch)
    .overrideProvider(SLEEP)
    .useValue(sleep)
    .overrideProvider(CLOCK)
    .useValue(() => Date.now() + offset)
    .overrideProvider(METRICS_REGISTRY)
    .useValue(new Registry())
    .compile();
  await app.init();
  const acquire = app.get(AcquireService);
  await acquire.start('0.0.0-test');
  const audit = app.get(AuditPublisher);
  return {
    broker: app.get(TokenBroker),
    cache: app.get(TokenCache),
    audit,
    metrics: app.get(BrokerMetrics),
    tap,
    sleeps,
    get sleepCapMs() {
      return control.sleepCapMs;
    },
    set sleepCapMs(v: number) {
      control.sleepCapMs = v;
    },
    advance: (ms) => (offset += ms),
    offset: () => offset,
    async stop() {
      await acquire.stop();
      await audit.close();
      await app.close();
    },
  };
}
