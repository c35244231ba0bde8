// Token endpoint of an external tenant (/{tenant}/oauth2/v2.0/token):
// authorization_code (+ PKCE), refresh_token (multi-resource, as Entra's:
// the same refresh token also gets a Microsoft Graph token) and
// client_credentials. A claims request on refresh that needs a second factor
// the grant never had is interaction_required with the claims to send back.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TenantConfig } from '../../config/schema';
import type { RefreshTokenRecord, UserRecord } from '../../store/state-store';
import { authenticateClient, type ClientAuthMethod } from '../client-auth/authenticate';
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
import type { UserScopes } from '../tokens/user-token';
import {
  mfaRequired,
  parseClaimsRequest,
  satisfiedContexts,
  type ClaimsRequest,
} from './conditional-access';
import { resolveExternalScopes } from './scopes';
import {
  buildExternalTokenResponse,
  REFRESH_TOKEN_DAYS,
  type EntraTokenResponse,
  type ExternalTokenInput,
} from './tokens';

export function handleExternalToken(
  ctx: IdentityContext,
  req: FastifyRequest,
  reply: FastifyReply,
  tenant: TenantConfig,
): Promise<FastifyReply> {
  return respondToken(req, reply, async () => {
    const p = FormParams.fromForm(req);
    const grant = p.require('grant_type');
    const audiences = acceptedAudiences(ctx, req, tenant);
    if (grant === 'client_credentials')
      return clientCredentialsGrant(ctx, req, tenant, p, audiences);
    if (grant !== 'authorization_code' && grant !== 'refresh_token')
      throw errors.unsupportedGrantType(grant.slice(0, 128));
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
    const claims = parseClaimsRequest(p.get('claims'));
    const app = client.principal.app;
    if (grant === 'authorization_code') checkRedemptionOrigin(app, p, req.headers.origin);
    return grant === 'authorization_code'
      ? redeemCode(ctx, p, tenant, app, client.method, claims)
      : redeemRefresh(ctx, p, tenant, app, client.method, claims, req.headers.origin);
  });
}

function azpacr(method: ClientAuthMethod): '0' | '1' | '2' {
  return method === 'none' ? '0' : method === 'client_secret' ? '1' : '2';
}

function notForThisTenant(what: 'code' | 'refresh_token'): OAuthError {
  return new OAuthError(
    400,
    'invalid_grant',
    'AADSTS70000',
    `The provided value for the '${what}' parameter is not valid. It was issued by another tenant or a B2C user flow.`,
  );
}

function interactionRequired(claims: ClaimsRequest): OAuthError {
  const challenge = JSON.stringify({
    access_token: { acrs: { essential: true, values: claims.acrs } },
  });
  return new OAuthError(
    400,
    'interaction_required',
    'AADSTS50076',
    'Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access this resource.',
    { suberror: 'basic_action', claims: challenge },
  );
}

function existingUser(ctx: IdentityContext, tenant: TenantConfig, oid: string): UserRecord {
  const user = ctx.users.byOid(tenant.id, oid);
  if (!user)
    throw new OAuthError(
      400,
      'invalid_grant',
      'AADSTS50034',
      'The user account does not exist in the directory.',
    );
  return user;
}

function respond(
  ctx: IdentityContext,
  o: Omit<ExternalTokenInput, 'baseUrl' | 'resource'> & {
    scopes: UserScopes;
    requested: string[];
    mfaAt?: number;
    /** The grant is an SPA's (browser redemption): so is its refresh token. */
    spa: boolean;
    /** The SPA refresh token redeemed: the new one keeps its expiry. */
    chain?: RefreshTokenRecord;
  },
): EntraTokenResponse {
  const resource = o.scopes.audience
    ? ctx.directory.resource(o.tenant, o.scopes.audience)
    : undefined;
  const refresh = o.scopes.offlineAccess
    ? issueRefreshToken(
        ctx,
        {
          tenantId: o.tenant.id,
          flow: '',
          clientId: o.client.config.clientId,
          oid: o.user.oid,
          scopes: o.requested,
          authTime: o.authTime,
          mfa: o.mfaAt !== undefined,
          mfaAt: o.mfaAt,
          ...(o.spa ? { spa: true } : {}),
        },
        REFRESH_TOKEN_DAYS,
        o.chain,
      ).token
    : undefined;
  return buildExternalTokenResponse(
    { ...o, baseUrl: ctx.baseUrl(), resource: resource?.kind === 'app' ? resource.app : undefined },
    ctx.keys,
    refresh,
  );
}

function redeemCode(
  ctx: IdentityContext,
  p: FormParams,
  tenant: TenantConfig,
  client: ResolvedApp,
  method: ClientAuthMethod,
  claims: ClaimsRequest,
): EntraTokenResponse {
  const g = takeAuthorizationCode(ctx, p, client, {
    checkEndpoint: (grant) => {
      if (grant.tenantId !== tenant.id || grant.flow !== '') throw notForThisTenant('code');
    },
    pkceError: () =>
      new OAuthError(
        400,
        'invalid_grant',
        'AADSTS50148',
        'The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.',
      ),
  });
  const user = existingUser(ctx, tenant, g.oid);
  const scopes = resolveExternalScopes(ctx, tenant, client, g.scopes);
  const acrs = [
    ...new Set([
      ...(g.acrs ?? []),
      ...satisfiedContexts(tenant, claims.acrs, g.mfaAt !== undefined),
    ]),
  ];
  const clientCapabilities = [
    ...new Set([...(g.clientCapabilities ?? []), ...claims.clientCapabilities]),
  ];
  return respond(ctx, {
    tenant,
    client,
    user,
    scopes,
    requested: g.scopes,
    authTime: g.authTime,
    authTimeRequested: g.authTimeRequested,
    nonce: g.nonce,
    acrs,
    clientCapabilities,
    clientAuth: azpacr(method),
    mfaAt: g.mfaAt,
    spa: issuedToSpa(client, g),
  });
}

function redeemRefresh(
  ctx: IdentityContext,
  p: FormParams,
  tenant: TenantConfig,
  client: ResolvedApp,
  method: ClientAuthMethod,
  claims: ClaimsRequest,
  origin: string | undefined,
): EntraTokenResponse {
  const rec = findRefreshToken(ctx, p, client, {
    checkEndpoint: (r) => {
      if (r.tenantId !== tenant.id || r.flow !== '') throw notForThisTenant('refresh_token');
    },
  });
  checkRefreshOrigin(rec, origin);
  const user = existingUser(ctx, tenant, rec.oid);
  const requested = p.get('scope')?.split(/\s+/).filter(Boolean) ?? rec.scopes;
  const scopes = resolveExternalScopes(ctx, tenant, client, requested);
  if (
    rec.mfaAt === undefined &&
    mfaRequired(tenant, { client, resourceClientId: scopes.audience, acrs: claims.acrs })
  )
    throw interactionRequired(claims);
  const acrs = satisfiedContexts(tenant, claims.acrs, rec.mfaAt !== undefined);
  return respond(ctx, {
    tenant,
    client,
    user,
    scopes,
    requested,
    authTime: rec.authTime,
    acrs,
    clientCapabilities: claims.clientCapabilities,
    clientAuth: azpacr(method),
    mfaAt: rec.mfaAt,
    spa: rec.spa === true,
    chain: rec,
  });
}
