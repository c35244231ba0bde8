// The identity stand-in: one Fastify server over HTTPS serving every tenant,
// user flow and cluster issuer of the configuration.
import fastifyFormbody from '@fastify/formbody';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import type { AddressInfo } from 'node:net';
import type { DevAzureConfig } from '../config/schema';
import { StateStore } from '../store/state-store';
import { clientErrorHandler } from '../util/client-error';
import { newGuid } from '../util/encoding';
import { CodeStore } from './signin/codes';
import { Mailbox } from './signin/mailbox';
import { SessionStore } from './signin/sessions';
import { TransactionStore } from './signin/transactions';
import { UserStore } from './signin/users';
import { SmartLockout } from './signin/lockout';
import type { CertificateResolver } from './client-auth/certificate-resolver';
import { OidcKeyFetcher } from './client-auth/oidc-keys';
import { ClusterIssuers } from './cluster/cluster-issuers';
import type { IdentityContext } from './context';
import { Directory } from './directory';
import { graphUnreadableUrl, isGraphPath } from './graph/me';
import { errorBody, OAuthError, sendOAuthError } from './errors';
import { KeyRing } from './keys/key-ring';
import { registerIdentityRoutes } from './routes';
import { createTestApi, type IdentityTestApi } from './test-api';

export interface IdentityServerOptions {
  config: DevAzureConfig;
  dataDir: string;
  host: string;
  /** Host name used in URLs and issuers (default: host). */
  publicHost?: string;
  /** Origin used in URLs and issuers instead of https://publicHost:port, e.g. an ingress in front. */
  publicUrl?: string;
  port: number;
  tls: { certPem: string; keyPem: string };
  /** Extra CA to trust when fetching external issuers' keys (the dev CA). */
  caPem?: string;
}

export interface IdentityServer {
  url: string;
  /** Where it listens (differs from url behind an ingress). */
  listenUrl: string;
  context: IdentityContext;
  testApi: IdentityTestApi;
  /** Lets app certificates that live in Key Vault be resolved once the vault runs. */
  setCertificateResolver(resolver: CertificateResolver): void;
  stop(): Promise<void>;
}

const BODY_LIMIT = 256 * 1024;

export async function startIdentityServer(o: IdentityServerOptions): Promise<IdentityServer> {
  const store = StateStore.open(o.dataDir);
  const keys = new KeyRing(store);
  const directory = new Directory(o.config);
  let url = '';
  const baseUrl = () => url;
  const clusters = new ClusterIssuers(
    o.config.clusterIssuers.map((c) => c.name),
    keys,
    baseUrl,
  );
  const ctx: IdentityContext = {
    directory,
    store,
    keys,
    users: new UserStore(store),
    lockout: new SmartLockout(),
    sessions: new SessionStore(store),
    transactions: new TransactionStore(),
    codes: new CodeStore(),
    clusters,
    mailbox: new Mailbox(),
    baseUrl,
    oidcKeys: new OidcKeyFetcher(o.caPem),
    certificates: undefined,
    clusterIssuerUrl: (name) => clusters.issuerUrl(name),
  };
  for (const tenant of o.config.tenants) {
    await keys.ensure(tenant.id);
    if (tenant.type !== 'workforce') await ctx.users.seed(tenant);
  }
  await clusters.init();
  await store.flush();

  const app = buildApp(o, ctx);
  await app.listen({ host: o.host, port: o.port });
  const { port } = app.server.address() as AddressInfo;
  const publicHost = o.publicHost ?? o.host;
  url =
    o.publicUrl ?? `https://${publicHost.includes(':') ? `[${publicHost}]` : publicHost}:${port}`;

  return {
    url,
    // A wildcard listen address is reached on the loopback of its own family (no DNS involved).
    listenUrl: `https://${o.host === '0.0.0.0' ? '127.0.0.1' : o.host === '::' ? '[::1]' : o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`,
    context: ctx,
    testApi: createTestApi(ctx),
    setCertificateResolver(resolver) {
      ctx.certificates = resolver;
    },
    async stop() {
      clusters.stop();
      await app.close();
      await store.flush();
    },
  };
}

function buildApp(o: IdentityServerOptions, ctx: IdentityContext): FastifyInstance {
  const app = Fastify({
    https: { cert: o.tls.certPem, key: o.tls.keyPem },
    logger: false,
    bodyLimit: BODY_LIMIT,
    forceCloseConnections: true,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 256 },
    clientErrorHandler: clientErrorHandler(
      (kind, status) => {
        const err =
          kind === 'too_large'
            ? new OAuthError(
                status,
                'invalid_request',
                'AADSTS90015',
                'Requested query string is too long.',
              )
            : new OAuthError(
                status,
                'invalid_request',
                'AADSTS9002313',
                'Invalid request. Request is malformed or invalid.',
              );
        return errorBody(err, newGuid());
      },
      () => ({ 'x-ms-request-id': newGuid(), 'Cache-Control': 'no-store' }),
    ),
    // What the router refuses before any route (bad percent-encoding in the path, a segment past
    // maxParamLength) gets Entra's error body too, not Fastify's.
    frameworkErrors: (_err, req, res) => {
      if (isGraphPath(req.url)) return void graphUnreadableUrl(req, res as FastifyReply);
      void sendOAuthError(
        req,
        res as FastifyReply,
        new OAuthError(
          400,
          'invalid_request',
          'AADSTS9002313',
          'Invalid request. Request is malformed or invalid. - The reason: The request URL is not valid.',
        ),
      );
    },
  });
  void app.register(fastifyFormbody, { bodyLimit: BODY_LIMIT });
  // Any other content type reaches the handlers as text: they answer with
  // Azure's "missing parameter" error instead of a framework 415.
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) =>
    done(null, body),
  );

  app.addHook('onSend', async (_req, reply) => {
    void reply.header('x-content-type-options', 'nosniff');
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof OAuthError) return sendOAuthError(req, reply, err);
    const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status >= 400 && status < 500) {
      // Malformed JSON, oversize body, bad URL encoding...: the caller's fault, Azure's shape.
      return sendOAuthError(
        req,
        reply,
        new OAuthError(
          status,
          'invalid_request',
          'AADSTS9002313',
          'Invalid request. Request is malformed or invalid.',
        ),
      );
    }
    console.error(
      `dev-azure identity: internal error on ${req.method} ${req.routeOptions.url ?? '?'}: ${err.stack ?? err.message}`,
    );
    return sendOAuthError(
      req,
      reply,
      new OAuthError(
        500,
        'server_error',
        'AADSTS50000',
        'There was an error issuing a token or an issue with our sign-in service.',
      ),
    );
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.header('x-ms-request-id', newGuid());
    return sendOAuthError(
      req,
      reply,
      new OAuthError(
        404,
        'not_found',
        '',
        `The requested endpoint ${req.method} ${req.url.split('?', 1)[0]?.slice(0, 200) ?? ''} does not exist.`,
      ),
    );
  });

  registerIdentityRoutes(app, ctx);
  return app;
}
