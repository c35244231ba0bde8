import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { createApp } from '@idp/service-kit';
import {
  startNats,
  startPostgres,
  TokenIssuer,
  type TestNatsServer,
  type TestPostgres,
} from '@idp/testing';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule, type AppModuleOptions } from '../../src/app.module';
import { loadScimConfig, type ScimConfig } from '../../src/config';
import { configureScimApp } from '../../src/scim/configure-app';
import { scimAppOptions } from '../../src/scim/router-errors';
import { DirectoriesService } from '../../src/tokens/directories.service';
import { TokenInvalidationListener } from '../../src/tokens/token-invalidation';
import { TokensService } from '../../src/tokens/tokens.service';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test convenience for JSON bodies
  text: string;
}

export interface ScimTestApp {
  app: NestFastifyApplication;
  config: ScimConfig;
  pg: TestPostgres;
  nats: TestNatsServer;
  databaseUrl: string;
  /** A directory with a token; `profile` 'aws' switches the directory's compatibility profile. */
  directory(id: string, profile?: 'default' | 'aws'): Promise<string>;
  request(
    method: string,
    url: string,
    o?: { token?: string; body?: unknown; headers?: Record<string, string>; raw?: string },
  ): Promise<Reply>;
  close(): Promise<void>;
}

export async function startScim(
  env: Record<string, string> = {},
  o: {
    background?: boolean;
    shared?: { pg: TestPostgres; nats: TestNatsServer };
    /** AppModule options beyond `background` (e.g. the invalidation listener's stable period). */
    module?: Omit<AppModuleOptions, 'background'>;
  } = {},
): Promise<ScimTestApp> {
  const [pg, nats] = o.shared
    ? [o.shared.pg, o.shared.nats]
    : await Promise.all([startPostgres(), startNats()]);
  const databaseUrl = await pg.createDatabase();
  const config = loadScimConfig({
    DATABASE_URL: databaseUrl,
    NATS_URL: nats.url,
    MIGRATE_ON_START: 'true',
    LOG_LEVEL: 'silent',
    SCIM_OUTBOX_INTERVAL_MS: '50',
    ...env,
  });
  const app = await createApp(
    AppModule.forRoot(config, { ...o.module, background: o.background ?? false }),
    {
      service: 'scim',
      logLevel: 'silent',
      ...scimAppOptions,
    },
  );
  configureScimApp(app, config);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  const request: ScimTestApp['request'] = async (method, url, r = {}) => {
    const headers: Record<string, string> = {
      ...(r.token ? { authorization: `Bearer ${r.token}` } : {}),
      ...r.headers,
    };
    let payload: string | undefined = r.raw;
    if (r.body !== undefined) {
      payload = JSON.stringify(r.body);
      headers['content-type'] ??= 'application/scim+json';
    }
    const res = await app.inject({ method: method as 'GET', url, headers, payload });
    let body: unknown;
    try {
      body = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      body = undefined;
    }
    return { status: res.statusCode, headers: res.headers, body, text: res.body };
  };
  return {
    app,
    config,
    pg,
    nats,
    databaseUrl,
    async directory(id, profile = 'default') {
      await app.get(DirectoriesService).setProfile(id, profile);
      return (await app.get(TokensService).create(id, `test-${id}`)).token;
    },
    request,
    async close() {
      await app.close();
      if (!o.shared) await Promise.all([pg.stop(), nats.dispose()]);
    },
  };
}

export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const patchOp = (...ops: unknown[]) => ({ schemas: [PATCH_OP], Operations: ops });

export const SCIM_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** A reply in the SCIM error schema (RFC 7644 §3.12) with this status (and scimType, if given). */
export function expectScimError(r: Reply, status: number, scimType?: string): void {
  expect({ status: r.status, body: r.body }).toMatchObject({
    status,
    body: {
      schemas: [SCIM_ERROR],
      status: String(status),
      detail: expect.any(String),
      ...(scimType ? { scimType } : {}),
    },
  });
  expect(r.headers['content-type']).toMatch(/^application\/scim\+json/);
}

export const ADMIN_AUDIENCE = 'api://scim-admin';

/** What makes a SCIM app's admin API trust `idp` (ADMIN_AUDIENCE, plain http for the local issuer). */
export const adminEnv = (idp: TokenIssuer): Record<string, string> => ({
  SCIM_ADMIN_IDENTITY_METADATA: idp.entraMetadataUrl(),
  SCIM_ADMIN_AUDIENCE: ADMIN_AUDIENCE,
  SCIM_ADMIN_ALLOW_INSECURE_HTTP: 'true',
  NODE_ENV: 'test',
});

export interface ScimAdminApp {
  s: ScimTestApp;
  /** The Entra stand-in issuing admin tokens (for tokens with other roles or audiences). */
  idp: TokenIssuer;
  /** An app-only token with the Scim.Admin role. */
  admin: string;
  /** A request with the admin token (a JSON body when given). */
  asAdmin(method: string, url: string, body?: unknown): Promise<Reply>;
  close(): Promise<void>;
}

/** SCIM with its admin API trusting a local token issuer (ADMIN_AUDIENCE unless `env` says otherwise). */
export async function startScimWithAdmin(
  env: Record<string, string> = {},
  o: Parameters<typeof startScim>[1] = {},
): Promise<ScimAdminApp> {
  const idp = await TokenIssuer.start({ audience: ADMIN_AUDIENCE });
  const s = await startScim({ ...adminEnv(idp), ...env }, o);
  const admin = await idp.appToken({ roles: ['Scim.Admin'] });
  return {
    s,
    idp,
    admin,
    asAdmin: (method, url, body) =>
      s.request(method, url, {
        token: admin,
        body,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
      }),
    async close() {
      await s.close();
      await idp.stop();
    },
  };
}

/**
 * Two replicas on one database: `a` with the admin API, `b` trusting the same admin issuer,
 * both listening for invalidations (LISTEN/NOTIFY, opened in the background) before this returns.
 */
export async function startReplicaPair(): Promise<{ a: ScimAdminApp; b: ScimTestApp }> {
  const a = await startScimWithAdmin();
  const b = await startScim(
    { ...adminEnv(a.idp), DATABASE_URL: a.s.databaseUrl },
    { shared: { pg: a.s.pg, nats: a.s.nats } },
  );
  const listeners = [a.s, b].map((x) => x.app.get(TokenInvalidationListener));
  for (let i = 0; i < 200 && !listeners.every((l) => l.listening); i++)
    await new Promise((r) => setTimeout(r, 10));
  expect(listeners.map((l) => l.listening)).toEqual([true, true]);
  return { a, b };
}

/** The built admin CLI (dist/cli/admin-cli.js). */
const ADMIN_CLI = join(__dirname, '..', '..', 'dist', 'cli', 'admin-cli.js');

/** Runs the built admin CLI against `databaseUrl`: its exit code and output. */
export const runAdminCli = (
  databaseUrl: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) =>
    execFile(
      process.execPath,
      [ADMIN_CLI, ...args],
      { env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl } },
      (e, stdout, stderr) =>
        resolve({ code: typeof e?.code === 'number' ? e.code : 0, stdout, stderr }),
    ),
  );
