// URL layout, as Azure's:
//   B2C user flows      /{tenant}.onmicrosoft.com/{flow}/...   (or /{tenant}/... ?p={flow})
//   Entra ID tenants    /{tenant}/v2.0/.well-known/openid-configuration, /{tenant}/oauth2/v2.0/token, ...
//   External tenants    the same tenant-level paths (https://{subdomain}.ciamlogin.com/{tenant}/... with this
//                       origin as host), pages at /{tenantId}/ciam/{page}; Graph at /v1.0/me; /_dev/mailbox
//   Cluster issuers     /{cluster}/.well-known/openid-configuration, /{cluster}/openid/v1/jwks
// Route parameters keep the same names at the same depth (the router needs that).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TenantConfig, UserFlowConfig } from '../config/schema';
import { handleAuthorize } from './b2c/authorize';
import { errorPage } from './signin/html';
import { handleLogout } from './signin/logout';
import { b2cFlowMetadata } from './b2c/metadata';
import { handleB2CToken } from './b2c/token';
import { registerUiRoutes } from './b2c/ui-routes';
import type { IdentityContext } from './context';
import { entraMetadata } from './entra/metadata';
import { handleExternalAuthorize } from './external/journey';
import { handleExternalToken } from './external/token';
import { MAILBOX_PATH, registerExternalUiRoutes } from './external/ui-routes';
import { registerGraphRoutes } from './graph/me';
import { registerMailboxPage } from './signin/mailbox-page';
import { errors, OAuthError, sendOAuthError } from './errors';
import { FormParams } from './form-params';
import { clientCredentialsGrant, acceptedAudiences, respondToken } from './tokens/token-endpoint';

type Params = { tenant: string; flow?: string };

function jsonOk(reply: FastifyReply, body: unknown): FastifyReply {
  return reply
    .header('cache-control', 'max-age=86400, private')
    .header('access-control-allow-origin', '*')
    .send(body);
}

function flowNotFound(tenant: TenantConfig, name: string): OAuthError {
  return new OAuthError(
    404,
    'invalid_request',
    '',
    `The user flow '${name.slice(0, 64)}' does not exist in tenant '${tenant.name}.onmicrosoft.com'.`,
  );
}

/** A B2C URL without a user flow: B2C has no tenant-wide authorization server. */
function policyMissing(tenant: TenantConfig): OAuthError {
  return new OAuthError(
    404,
    'invalid_request',
    '',
    `No user flow (policy) in the request for tenant '${tenant.name}.onmicrosoft.com': name it in the path (/${tenant.name}.onmicrosoft.com/{policy}/v2.0/...) or as ?p={policy}.`,
  );
}

/** Whether the URL names the tenant by its id (login.microsoftonline.com style), not its domain. */
function isTenantId(req: FastifyRequest, tenant: TenantConfig): boolean {
  return (req.params as Params).tenant.toLowerCase() === tenant.id.toLowerCase();
}

const TOKEN_PATH = /\/oauth2\/v2\.0\/token\/?$/;
/** An Origin header value (scheme://host[:port]); anything else gets no CORS answer. */
const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]{1,253}(:\d{1,5})?$/;

function corsOrigin(req: FastifyRequest): string | undefined {
  const origin = req.headers.origin;
  return typeof origin === 'string' && ORIGIN.test(origin) ? origin : undefined;
}

/** The `p` query parameter that names a flow at tenant-level B2C URLs. */
function policyParam(req: FastifyRequest): string | undefined {
  return FormParams.from(req.query).get('p');
}

export function registerIdentityRoutes(app: FastifyInstance, ctx: IdentityContext): void {
  const tenantOf = (req: FastifyRequest): TenantConfig => {
    const { tenant } = req.params as Params;
    const t = ctx.directory.tenant(tenant);
    if (!t) throw errors.tenantNotFound(tenant.slice(0, 128));
    return t;
  };
  const flowOf = (tenant: TenantConfig, name: string): UserFlowConfig => {
    const flow = tenant.type === 'b2c' ? ctx.directory.flow(tenant, name) : undefined;
    if (!flow) throw flowNotFound(tenant, name);
    return flow;
  };
  /** JSON endpoints: Azure-shaped errors. */
  const json =
    (fn: (req: FastifyRequest, reply: FastifyReply) => FastifyReply | Promise<FastifyReply>) =>
    async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      try {
        return await fn(req, reply);
      } catch (err) {
        if (err instanceof OAuthError) return sendOAuthError(req, reply, err);
        throw err;
      }
    };
  /** Browser endpoints: errors before a redirect URI is trusted are shown as a page. */
  const page =
    (fn: (req: FastifyRequest, reply: FastifyReply) => FastifyReply | Promise<FastifyReply>) =>
    async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      try {
        return await fn(req, reply);
      } catch (err) {
        if (err instanceof OAuthError) return errorPage(reply, err.status, err.code, err.detail);
        throw err;
      }
    };
  // Entra names the method it refused; PUT, PATCH and DELETE get the same answer as GET.
  const postOnly = json((req) => {
    throw new OAuthError(
      400,
      'invalid_request',
      'AADSTS900561',
      `The endpoint only accepts POST, OPTIONS requests. Received a ${req.method} request.`,
    );
  });
  const NOT_POST = ['GET', 'PUT', 'PATCH', 'DELETE'] as const;

  // CORS on the token endpoints, as Entra answers SPAs (auth code + PKCE from the browser): a
  // simple request (a form POST with no other headers, which is all MSAL.js sends: it sets
  // preventCorsPreflight so its telemetry and CCS hints go in the URL and body) gets the caller's
  // origin on its answer, token or error (respondToken drops it from AADSTS9002326). A preflight gets no CORS grant: Entra asked MSAL never
  // to cause one (AzureAD/microsoft-authentication-library-for-js#3636), B2C answered them without
  // Access-Control-Allow-Origin (#2051, microsoft-authentication-library-for-dotnet#1865), and
  // it names no client whose SPA reply URLs could vouch for the origin. So a page whose token
  // request needs a preflight (a custom header, a JSON body) fails here as it can at Azure.
  app.addHook('onRequest', async (req, reply) => {
    const origin = corsOrigin(req);
    if (origin && req.method === 'POST' && TOKEN_PATH.test(req.url.split('?', 1)[0] ?? ''))
      void reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
  });
  const preflight = async (_req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> =>
    reply.code(200).header('cache-control', 'no-store').send();
  app.options('/:tenant/:flow/oauth2/v2.0/token', preflight);
  app.options('/:tenant/oauth2/v2.0/token', preflight);

  app.get('/healthz', async (_req, reply) =>
    reply.header('cache-control', 'no-store').send({ status: 'ok' }),
  );

  // ---- B2C user flows: /{tenant}/{flow}/... ----
  const flowMetadata = json((req, reply) => {
    const tenant = tenantOf(req);
    const flow = flowOf(tenant, (req.params as Params).flow ?? '');
    return jsonOk(reply, b2cFlowMetadata(ctx.baseUrl(), tenant, flow));
  });
  const flowKeys = json((req, reply) => {
    const tenant = tenantOf(req);
    flowOf(tenant, (req.params as Params).flow ?? '');
    return jsonOk(reply, ctx.keys.jwks(tenant.id));
  });
  app.get('/:tenant/:flow/v2.0/.well-known/openid-configuration', flowMetadata);
  app.get('/:tenant/:flow/discovery/v2.0/keys', flowKeys);
  app.get('/:tenant/:flow/discovery/keys', flowKeys);
  app.route({
    method: ['GET', 'POST'],
    url: '/:tenant/:flow/oauth2/v2.0/authorize',
    handler: page((req, reply) => {
      const tenant = tenantOf(req);
      return handleAuthorize(
        ctx,
        req,
        reply,
        tenant,
        flowOf(tenant, (req.params as Params).flow ?? ''),
      );
    }),
  });
  app.post(
    '/:tenant/:flow/oauth2/v2.0/token',
    json((req, reply) => {
      const tenant = tenantOf(req);
      return handleB2CToken(
        ctx,
        req,
        reply,
        tenant,
        flowOf(tenant, (req.params as Params).flow ?? ''),
      );
    }),
  );
  app.route({ method: [...NOT_POST], url: '/:tenant/:flow/oauth2/v2.0/token', handler: postOnly });
  app.route({
    method: ['GET', 'POST'],
    url: '/:tenant/:flow/oauth2/v2.0/logout',
    handler: page((req, reply) => {
      const tenant = tenantOf(req);
      flowOf(tenant, (req.params as Params).flow ?? '');
      return handleLogout(ctx, req, reply, tenant);
    }),
  });
  registerUiRoutes(app, ctx);

  // ---- External tenants (External ID): tenant-level endpoints below, pages, Graph /me, the dev mailbox ----
  registerExternalUiRoutes(app, ctx);
  registerGraphRoutes(app, ctx);
  registerMailboxPage(app, ctx, MAILBOX_PATH);

  // ---- Tenant level: Entra ID, or B2C with ?p={flow} ----
  app.get(
    '/:tenant/v2.0/.well-known/openid-configuration',
    json((req, reply) => {
      const tenant = tenantOf(req);
      const p = policyParam(req);
      if (tenant.type === 'b2c' && p)
        return jsonOk(reply, b2cPolicyParamMetadata(ctx.baseUrl(), tenant, flowOf(tenant, p)));
      // B2C serves metadata per user flow only: {tenant}.b2clogin.com/{tenant}.onmicrosoft.com/v2.0/...
      // without a policy does not exist (404). The B2C tenant's Entra face (login.microsoftonline.com/
      // {tenant id}, app-only tokens) shares this origin here, so the tenant id still gets it.
      if (tenant.type === 'b2c' && !isTenantId(req, tenant)) throw policyMissing(tenant);
      return jsonOk(reply, entraMetadata(ctx.baseUrl(), tenant));
    }),
  );
  app.get(
    '/:tenant/discovery/v2.0/keys',
    json((req, reply) => {
      const tenant = tenantOf(req);
      // ?p= names a user flow here too (the metadata's jwks_uri carries it): an unknown one is
      // refused as at /{tenant}/{flow}/discovery/v2.0/keys.
      const p = policyParam(req);
      if (tenant.type === 'b2c' && p) flowOf(tenant, p);
      else if (tenant.type === 'b2c' && !isTenantId(req, tenant)) throw policyMissing(tenant);
      return jsonOk(reply, ctx.keys.jwks(tenant.id));
    }),
  );
  app.post(
    '/:tenant/oauth2/v2.0/token',
    json(async (req, reply) => {
      const tenant = tenantOf(req);
      const p = policyParam(req);
      if (tenant.type === 'b2c' && p)
        return handleB2CToken(ctx, req, reply, tenant, flowOf(tenant, p));
      if (tenant.type === 'external') return handleExternalToken(ctx, req, reply, tenant);
      return respondToken(req, reply, async () => {
        const params = FormParams.fromForm(req);
        const grant = params.require('grant_type');
        if (grant === 'client_credentials')
          return clientCredentialsGrant(
            ctx,
            req,
            tenant,
            params,
            acceptedAudiences(ctx, req, tenant),
          );
        if (grant === 'authorization_code' || grant === 'refresh_token') {
          throw new OAuthError(
            400,
            'invalid_grant',
            'AADSTS70000',
            `The ${grant} grant is not available for this tenant in the local stand-in (no interactive users).`,
          );
        }
        throw errors.unsupportedGrantType(grant.slice(0, 128));
      });
    }),
  );
  app.route({ method: [...NOT_POST], url: '/:tenant/oauth2/v2.0/token', handler: postOnly });
  app.route({
    method: ['GET', 'POST'],
    url: '/:tenant/oauth2/v2.0/authorize',
    handler: page((req, reply) => {
      const tenant = tenantOf(req);
      const p = policyParam(req);
      if (tenant.type === 'b2c' && p)
        return handleAuthorize(ctx, req, reply, tenant, flowOf(tenant, p));
      if (tenant.type === 'external') return handleExternalAuthorize(ctx, req, reply, tenant);
      return errorPage(
        reply,
        400,
        '',
        'Interactive sign-in is only available for B2C user flows and external tenants in the local stand-in.',
      );
    }),
  });
  app.route({
    method: ['GET', 'POST'],
    url: '/:tenant/oauth2/v2.0/logout',
    handler: page((req, reply) => handleLogout(ctx, req, reply, tenantOf(req))),
  });

  // ---- Cluster issuers (the first segment names the cluster) ----
  const clusterOf = (req: FastifyRequest): string => {
    const { tenant: name } = req.params as Params;
    if (!ctx.clusters.has(name))
      throw new OAuthError(404, 'not_found', '', `No issuer at /${name.slice(0, 64)}.`);
    return name;
  };
  app.get(
    '/:tenant/.well-known/openid-configuration',
    json((req, reply) => jsonOk(reply, ctx.clusters.metadata(clusterOf(req)))),
  );
  app.get(
    '/:tenant/openid/v1/jwks',
    json((req, reply) => jsonOk(reply, ctx.clusters.jwks(clusterOf(req)))),
  );
}

/** Metadata at /{tenant}/v2.0/.well-known/openid-configuration?p={flow}: endpoints keep ?p=. */
function b2cPolicyParamMetadata(
  baseUrl: string,
  tenant: TenantConfig,
  flow: UserFlowConfig,
): Record<string, unknown> {
  const base = `${baseUrl}/${tenant.name}.onmicrosoft.com`;
  const p = `?p=${encodeURIComponent(flow.name.toLowerCase())}`;
  return {
    ...b2cFlowMetadata(baseUrl, tenant, flow),
    authorization_endpoint: `${base}/oauth2/v2.0/authorize${p}`,
    token_endpoint: `${base}/oauth2/v2.0/token${p}`,
    end_session_endpoint: `${base}/oauth2/v2.0/logout${p}`,
    jwks_uri: `${base}/discovery/v2.0/keys${p}`,
  };
}
