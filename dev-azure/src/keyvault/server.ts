// Fastify over HTTPS speaking Key Vault's data-plane protocol. Every request
// goes through, in order: throttling, the bearer challenge / token check,
// the api-version check, the object name in the URL; then the route
// authorizes its own data action.
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { clientErrorHandler } from '../util/client-error';
import { apiVersionOf } from './api-version';
import { TokenValidator } from './auth';
import { registerCertificateRoutes } from './certificates-routes';
import { Callers, createContext } from './context';
import { shown } from '../util/text';
import { KvError } from './errors';
import { OBJECT_NAME } from './vault';
import { registerKeyRoutes } from './keys-routes';
import type { KeyVaultHandle, KeyVaultOptions } from './options';
import { TokenBucket } from './rate-limit';
import { VaultStore } from './store';
import { Vault } from './vault';

/** Data-plane versions the Azure SDKs send; others get Key Vault's BadParameter. */
export const SUPPORTED_API_VERSIONS = [
  '7.0',
  '7.1',
  '7.2',
  '7.3',
  '7.4',
  '7.5',
  '7.6-preview.2',
  '7.6',
  '2025-06-01-preview',
  '2025-07-01',
];
const LATEST_API_VERSION = '2025-07-01';

export async function startKeyVault(o: KeyVaultOptions): Promise<KeyVaultHandle> {
  const store = await VaultStore.open(o.dataDir);
  const vault = new Vault(store);
  await vault.seed(o.seedCertificates ?? []);

  const validator = new TokenValidator({
    identityUrl: o.identityUrl,
    jwksBaseUrl: o.jwksBaseUrl,
    tenantId: o.tenantId,
    trustedIssuers: o.trustedIssuers,
  });
  const callers = new Callers();
  let bucket =
    o.rateLimitPerSecond === undefined ? undefined : new TokenBucket(o.rateLimitPerSecond);
  let requestCount = 0;
  let throttledCount = 0;
  let url = '';

  const app: FastifyInstance = Fastify({
    https: { cert: o.tls.certPem, key: o.tls.keyPem },
    logger: false,
    // The SDKs keep sockets alive; close them on stop() instead of waiting.
    forceCloseConnections: true,
    // getCertificate(name) requests `/certificates/{name}/` (empty version); a kid without version gives `//sign`.
    // Object names run to 127 characters (Fastify's default cap is 100); longer ones reach the name check.
    routerOptions: {
      ignoreTrailingSlash: true,
      ignoreDuplicateSlashes: true,
      maxParamLength: 1024,
    },
    clientErrorHandler: clientErrorHandler(
      (kind, status) =>
        new KvError(
          status,
          'BadParameter',
          kind === 'too_large'
            ? 'The request URI or headers are too long.'
            : kind === 'timeout'
              ? 'The request was not received in time.'
              : 'The request is not valid HTTP.',
        ).body(),
      () => ({ 'x-ms-request-id': randomUUID() }),
    ),
    // Refusals the router makes before any hook (bad percent-encoding, a path segment past the cap)
    // in Key Vault's envelope instead of Fastify's.
    frameworkErrors: (err, _req, res) => {
      void (res as FastifyReply)
        .code(400)
        .header('x-ms-request-id', randomUUID())
        .send(
          new KvError(
            400,
            'BadParameter',
            err.code === 'FST_ERR_BAD_URL'
              ? 'The request URI is not valid: it holds malformed percent-encoding.'
              : 'The request URI is not valid: a path segment is too long.',
          ).body(),
        );
    },
  });

  // An empty JSON body is no body (a bodiless DELETE or OPTIONS with the SDK's content type reaches
  // the 404 for unsupported operations; sign without a body is still BadParameter from its schema).
  // `__proto__` / `constructor.prototype` members are dropped, not refused: Key Vault ignores
  // members it does not know (its REST reference lists only the ones it reads), and dropping them
  // keeps the parsed body's prototype untouched.
  const parseJson = app.getDefaultJsonParser('remove', 'remove');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') done(null, undefined);
    else void parseJson(req, text, done);
  });

  app.addHook('onRequest', async (req, reply) => {
    requestCount++;
    // Azure's correlation header; the SDKs log it with failures.
    void reply.header('x-ms-request-id', randomUUID());
    const wait = bucket?.take() ?? 0;
    if (wait > 0) {
      throttledCount++;
      throw new KvError(
        429,
        'Throttled',
        'Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached',
        undefined,
        {
          'retry-after': String(wait),
        },
      );
    }
    callers.set(req, await validator.validate(req.headers.authorization));
    const apiVersion = apiVersionOf(req.query);
    if (apiVersion === undefined)
      throw new KvError(400, 'BadParameter', "The 'api-version' query parameter is missing.");
    if (!SUPPORTED_API_VERSIONS.includes(apiVersion)) {
      throw new KvError(
        400,
        'BadParameter',
        `The specified version (${apiVersion.slice(0, 40)}) is not recognized. Consider using the latest supported version (${LATEST_API_VERSION}).`,
      );
    }
    // Key Vault refuses a name outside its syntax (1-127 of 0-9, a-z, A-Z, '-') before looking it up.
    const name = (req.params as { name?: unknown } | undefined)?.name;
    if (typeof name === 'string' && !OBJECT_NAME.test(name))
      throw new KvError(
        400,
        'BadParameter',
        `The request URI contains an invalid name: ${shown(name)}`,
      );
  });

  app.setErrorHandler((err: FastifyError | KvError, _req, reply) => {
    if (err instanceof KvError) {
      void reply.code(err.status).headers(err.headers).send(err.body());
      return;
    }
    const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status >= 400 && status < 500) {
      // Framework-level refusals (malformed JSON, wrong content type, oversize body) in Key Vault's shape.
      void reply
        .code(status)
        .send(new KvError(status, 'BadParameter', `The request is invalid: ${err.message}`).body());
      return;
    }
    console.error('keyvault: internal error', err instanceof Error ? err.stack : String(err));
    void reply
      .code(500)
      .send(
        new KvError(
          500,
          'InternalServerError',
          'An unexpected error occurred in the local Key Vault.',
        ).body(),
      );
  });

  app.setNotFoundHandler((req, reply) => {
    void reply
      .code(404)
      .send(
        new KvError(
          404,
          'NotFound',
          `The requested operation ${req.method} ${req.url.split('?')[0]} is not supported by this vault.`,
        ).body(),
      );
  });

  const ctx = createContext(vault, callers, o.roleAssignments, () => url);
  registerKeyRoutes(app, ctx);
  registerCertificateRoutes(app, ctx);

  await app.listen({ host: o.host, port: o.port });
  const { port } = app.server.address() as AddressInfo;
  url = `https://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;

  return {
    url,
    async stop() {
      await app.close();
      await vault.flush();
    },
    stats: () => ({ signCount: vault.signCount, requestCount, throttledCount }),
    setRateLimit(perSecond) {
      bucket = perSecond === undefined ? undefined : new TokenBucket(perSecond);
    },
    certificate: (name) => vault.publicCertificate(name),
  };
}
