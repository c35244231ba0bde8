import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '@idp/service-kit';
import {
  callJson,
  startNats,
  startPostgres,
  type JsonCallOptions,
  type JsonCallResult,
  type TestNatsServer,
  type TestPostgres,
} from '@idp/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { AppModule } from '../../src/app.module';
import { loadPolicyApiConfig, type PolicyApiConfig } from '../../src/config';
import { configureApp } from '../../src/configure';
import { ExternalIdTenant } from './external-id';
import { PolicyApiTokens } from './tokens';

export type CallOptions = Omit<JsonCallOptions, 'contentType'>;
export type CallResult<T = unknown> = JsonCallResult<T>;

/** policy-api in-process (real Fastify listener) against real PostgreSQL, NATS and a token issuer. */
export class Harness {
  app!: NestFastifyApplication;
  config!: PolicyApiConfig;
  pg!: TestPostgres;
  nats!: TestNatsServer;
  /** B2C and app-only tokens (the shared test issuer). */
  issuer!: PolicyApiTokens;
  /** With `{ externalId: true }`: the trusted External ID tenant (the same issuer's `ciam` realm). */
  externalId?: ExternalIdTenant;
  /** Direct database access for assertions. */
  db!: Pool;
  url = '';
  /** With `{ restartablePostgres: true }`: where the cluster's data outlive a stop. */
  private pgDir?: string;

  /**
   * `beforeBoot`: prepare the database (e.g. data of an older schema). `externalId`: also trust an
   * External ID tenant (B2C stays trusted unless extraEnv empties B2C_IDENTITY_METADATA).
   * `restartablePostgres`: PostgreSQL keeps its data across stopPostgres/startPostgres.
   * `serviceDatabaseUrl`: the URL the service connects with (e.g. through a TCP hop); `db` stays direct.
   */
  static async start(
    extraEnv: Record<string, string> = {},
    o: {
      externalId?: boolean;
      beforeBoot?: (databaseUrl: string) => Promise<void>;
      restartablePostgres?: boolean;
      serviceDatabaseUrl?: (databaseUrl: string) => Promise<string>;
    } = {},
  ): Promise<Harness> {
    const h = new Harness();
    if (o.restartablePostgres) h.pgDir = mkdtempSync(join(tmpdir(), 'policy-api-pg-'));
    [h.pg, h.nats, h.issuer] = await Promise.all([
      startPostgres({ dir: h.pgDir }),
      startNats(),
      PolicyApiTokens.start(),
    ]);
    if (o.externalId) h.externalId = new ExternalIdTenant(h.issuer.shared);
    const databaseUrl = await h.pg.createDatabase();
    h.db = new Pool({ connectionString: databaseUrl, max: 2 });
    // A test that stops PostgreSQL loses this pool's idle connections: not a test failure.
    h.db.on('error', () => undefined);
    await o.beforeBoot?.(databaseUrl);
    h.config = loadPolicyApiConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: (await o.serviceDatabaseUrl?.(databaseUrl)) ?? databaseUrl,
      NATS_URL: h.nats.url,
      MIGRATE_ON_START: 'true',
      OUTBOX_INTERVAL_MS: '50',
      ...h.issuer.env(),
      ...h.externalId?.env(),
      ...extraEnv,
    });
    h.app = await createApp(AppModule.forRoot(h.config), {
      service: 'policy-api',
      logLevel: 'silent',
    });
    configureApp(h.app);
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    const server = h.app.getHttpServer() as { address(): AddressInfo };
    h.url = `http://127.0.0.1:${server.address().port}`;
    return h;
  }

  async stop(): Promise<void> {
    await this.app?.close();
    await this.db?.end();
    await Promise.all([this.pg?.stop(), this.nats?.dispose(), this.issuer?.stop()]);
    if (this.pgDir) rmSync(this.pgDir, { recursive: true, force: true });
  }

  /** Stops PostgreSQL as an operator or a failover does (fast shutdown: sessions are ended). */
  async stopPostgres(): Promise<void> {
    if (!this.pgDir) throw new Error('start the harness with { restartablePostgres: true }');
    await this.pg.stop();
  }

  /** Starts the stopped PostgreSQL again, on the same port with the same data. */
  async startPostgres(): Promise<void> {
    if (!this.pgDir) throw new Error('start the harness with { restartablePostgres: true }');
    this.pg = await startPostgres({ dir: this.pgDir, port: this.pg.port });
  }

  call<T = Record<string, unknown>>(
    method: string,
    path: string,
    o: CallOptions = {},
  ): Promise<CallResult<T>> {
    return callJson<T>(method, `${this.url}${path}`, o);
  }
}
