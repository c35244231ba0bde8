// B2C user-flow token endpoint: authorization_code (PKCE), refresh_token
// (bound to the flow that issued it) and client_credentials.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TenantConfig, UserFlowConfig } from '../../config/schema';
import type { RefreshTokenRecord, UserRecord } from '../../store/state-store';
import { authenticateClient } from '../client-auth/authenticate';
import type { IdentityContext } from '../context';
import type { ResolvedApp } from '../directory';
import { errors, OAuthError } from '../errors';
import { FormParams } from '../form-params';
import {
  checkRedemptionOrigin,
  checkRefreshOrigin,
  issuedToSpa,
  isBrowserRedemption,
  findRefreshToken,
  issueRefreshToken,
  takeAuthorizationCode,
} from '../tokens/grants';
import { acceptedAudiences, clientCredentialsGrant, respondToken } from '../tokens/token-endpoint';
import {
  buildUserTokenResponse,
  resolveUserScopes,
  type B2CTokenResponse,
} from '../tokens/user-token';

export function handleB2CToken(
  ctx: IdentityContext,
  req: FastifyRequest,
  reply: FastifyReply,
  tenant: TenantConfig,
  flow: UserFlowConfig,
): Promise<FastifyReply> {
  return respondToken(req, reply, async () => {
    const p = FormParams.fromForm(req);
    const grant = p.require('grant_type');
    const audiences = acceptedAudiences(ctx, req, tenant, flow.name);
    if (grant === 'client_credentials')
      return clientCredentialsGrant(ctx, req, tenant, p, audiences);
    if (grant !== 'authorization_code' && grant !== 'refresh_token')
      throw errors.unsupportedGrantType(grant);
    const client = await authenticateClient(
      {
        tenant,
        params: p,
        authorization: req.headers.authorization,
        acceptedAudiences: audiences,
        browserRedemption: (principal) =>
          isBrowserRedemption(ctx, principal.app, p, req.headers.origin),
      },
      ctx,
    );
    if (client.principal.app.home !== tenant)
      throw errors.appNotFound(client.principal.app.config.clientId, tenant.id);
    if (grant === 'authorization_code')
      checkRedemptionOrigin(client.principal.app, p, req.headers.origin);
    return grant === 'authorization_code'
      ? redeemCode(ctx, p, tenant, flow, client.principal.app)
      : redeemRefreshToken(ctx, p, tenant, flow, client.principal.app, req.headers.origin);
  });
}

function wrongEndpoint(actual: string, expected: string): OAuthError {
  return new OAuthError(
    400,
    'invalid_grant',
    'AADB2C90088',
    `The provided grant has not been issued for this endpoint. Actual Value : ${actual} and Expected Value : ${expected}`,
  );
}

function redeemCode(
  ctx: IdentityContext,
  p: FormParams,
  tenant: TenantConfig,
  flow: UserFlowConfig,
  client: ResolvedApp,
): B2CTokenResponse {
  const g = takeAuthorizationCode(ctx, p, client, {
    checkEndpoint: (grant) => {
      if (grant.tenantId !== tenant.id || grant.flow !== flow.name.toLowerCase())
        throw wrongEndpoint(configuredFlowName(tenant, grant.flow), flow.name);
    },
    pkceError: () =>
      new OAuthError(400, 'invalid_grant', 'AADB2C90183', 'The supplied code_verifier is invalid.'),
  });
  const user = existingUser(ctx, tenant, g.oid);
  const scopes = resolveUserScopes(ctx.directory, tenant, client, g.scopes);
  const refresh = scopes.offlineAccess
    ? newRefreshToken(ctx, {
        tenant,
        flow,
        client,
        user,
        scopes: g.scopes,
        authTime: g.authTime,
        mfa: g.mfa,
        spa: issuedToSpa(client, g),
      })
    : undefined;
  return buildUserTokenResponse(
    {
      baseUrl: ctx.baseUrl(),
      tenant,
      flow,
      client,
      user,
      scopes,
      authTime: g.authTime,
      nonce: g.nonce,
    },
    ctx.keys,
    refresh,
  );
}

function redeemRefreshToken(
  ctx: IdentityContext,
  p: FormParams,
  tenant: TenantConfig,
  flow: UserFlowConfig,
  client: ResolvedApp,
  origin: string | undefined,
): B2CTokenResponse {
  const rec = findRefreshToken(ctx, p, client, {
    checkEndpoint: (r) => {
      if (r.tenantId !== tenant.id || r.flow !== flow.name.toLowerCase())
        throw wrongEndpoint(configuredFlowName(tenant, r.flow), flow.name);
    },
  });
  checkRefreshOrigin(rec, origin);
  const user = existingUser(ctx, tenant, rec.oid);
  const requested = p.get('scope')?.split(/\s+/).filter(Boolean) ?? rec.scopes;
  const scopes = resolveUserScopes(ctx.directory, tenant, client, requested);
  const refresh = newRefreshToken(ctx, {
    tenant,
    flow,
    client,
    user,
    scopes: requested,
    authTime: rec.authTime,
    mfa: rec.mfa,
    spa: rec.spa === true,
    chain: rec,
  });
  return buildUserTokenResponse(
    { baseUrl: ctx.baseUrl(), tenant, flow, client, user, scopes, authTime: rec.authTime },
    ctx.keys,
    refresh,
  );
}

function existingUser(ctx: IdentityContext, tenant: TenantConfig, oid: string): UserRecord {
  const user = ctx.users.byOid(tenant.id, oid);
  if (!user)
    throw new OAuthError(
      400,
      'invalid_grant',
      'AADB2C99002',
      'This user does not exist and profile could not be read.',
    );
  return user;
}

function configuredFlowName(tenant: TenantConfig, lower: string): string {
  return tenant.userFlows.find((f) => f.name.toLowerCase() === lower)?.name ?? lower;
}

function newRefreshToken(
  ctx: IdentityContext,
  o: {
    tenant: TenantConfig;
    flow: UserFlowConfig;
    client: ResolvedApp;
    user: UserRecord;
    scopes: string[];
    authTime: number;
    mfa: boolean;
    spa: boolean;
    /** The SPA refresh token redeemed: the new one keeps its expiry. */
    chain?: RefreshTokenRecord;
  },
): { token: string; expiresIn: number } {
  return issueRefreshToken(
    ctx,
    {
      tenantId: o.tenant.id,
      flow: o.flow.name.toLowerCase(),
      clientId: o.client.config.clientId,
      oid: o.user.oid,
      scopes: o.scopes,
      authTime: o.authTime,
      mfa: o.mfa,
      ...(o.spa ? { spa: true } : {}),
    },
    o.flow.refreshTokenLifetimeDays,
    o.chain,
  );
}
