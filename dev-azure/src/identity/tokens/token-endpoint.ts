// Plumbing shared by the Entra and B2C token endpoints: Azure's response
// headers, error mapping, client credentials and assertion audiences.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TenantConfig } from '../../config/schema';
import { newGuid } from '../../util/encoding';
import { authenticateClient } from '../client-auth/authenticate';
import type { IdentityContext } from '../context';
import { errors, OAuthError, sendOAuthError, correlationId } from '../errors';
import type { FormParams } from '../form-params';
import { mintAppToken, resolveDefaultScope, type AppTokenResponse } from './app-token';
import { CROSS_ORIGIN_REFUSED } from './grants';

export async function respondToken(
  req: FastifyRequest,
  reply: FastifyReply,
  produce: () => Promise<object>,
): Promise<FastifyReply> {
  try {
    const body = await produce();
    return reply
      .header('cache-control', 'no-store, no-cache')
      .header('pragma', 'no-cache')
      .header('client-request-id', correlationId(req))
      .header('x-ms-request-id', newGuid())
      .send(body);
  } catch (err) {
    if (!(err instanceof OAuthError)) throw err;
    // A browser redeeming a grant that is not an SPA's gets no CORS grant on the refusal: the page
    // sees a CORS failure, as MS Learn (v2-oauth2-auth-code-flow, "Redirect URIs for single-page
    // apps") shows; a non-browser caller still reads the error.
    if (err.code === CROSS_ORIGIN_REFUSED) reply.removeHeader('access-control-allow-origin');
    return sendOAuthError(req, reply, err);
  }
}

/** What a client assertion's `aud` may be: this token endpoint, under any alias of the tenant. */
export function acceptedAudiences(
  ctx: IdentityContext,
  req: FastifyRequest,
  tenant: TenantConfig,
  flowName?: string,
): string[] {
  const base = ctx.baseUrl();
  const out = [`${base}${req.url.split('?')[0]}`];
  for (const alias of ctx.directory.tenantAliases(tenant)) {
    out.push(`${base}/${alias}/oauth2/v2.0/token`, `${base}/${alias}/oauth2/token`);
    if (flowName) out.push(`${base}/${alias}/${flowName}/oauth2/v2.0/token`);
  }
  return out;
}

export async function clientCredentialsGrant(
  ctx: IdentityContext,
  req: FastifyRequest,
  tenant: TenantConfig,
  params: FormParams,
  audiences: string[],
): Promise<AppTokenResponse> {
  const client = await authenticateClient(
    { tenant, params, authorization: req.headers.authorization, acceptedAudiences: audiences },
    ctx,
  );
  if (client.method === 'none') throw errors.missingCredential();
  const resource = resolveDefaultScope(ctx.directory, tenant, params.require('scope'));
  return mintAppToken(
    {
      baseUrl: ctx.baseUrl(),
      tenant,
      principal: client.principal,
      resource,
      method: client.method,
    },
    ctx,
  );
}
