// B2C user-flow token endpoint: authorization_code (PKCE), refresh_token
// (bound to the flow that issued it) and client_credentials.
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TenantConfig, UserFlowConfig } from '../../config/schema';
import type { UserRecord } from '../../store/state-store';
import { nowSeconds, randomToken, safeEqual, sha256Hex } from '../../util/encoding';
import { authenticateClient } from '../client-auth/authenticate';
import type { IdentityContext } from '../context';
import type { ResolvedApp } from '../directory';
import { errors, OAuthError } from '../errors';
import { FormParams } from '../form-params';
import { acceptedAudiences, clientCredentialsGrant, respondToken } from '../tokens/token-endpoint';
import { buildUserTokenResponse, resolveUserScopes, type B2CTokenResponse } from '../tokens/user-token';

const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

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
    if (grant === 'client_credentials') return clientCredentialsGrant(ctx, req, tenant, p, audiences);
    if (grant !== 'authorization_code' && grant !== 'refresh_token') throw errors.unsupportedGrantType(grant);
    const client = await authenticateClient({ tenant, params: p, authorization: req.headers.authorization, acceptedAudiences: audiences }, ctx);
    if (client.principal.app.home !== tenant) throw errors.appNotFound(client.principal.app.config.clientId, tenant.id);
    return grant === 'authorization_code' ? redeemCode(ctx, p, tenant, flow, client.principal.app) : redeemRefreshToken(ctx, p, tenant, flow, client.principal.app);
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

function redeemCode(ctx: IdentityContext, p: FormParams, tenant: TenantConfig, flow: UserFlowConfig, client: ResolvedApp): B2CTokenResponse {
  const code = p.require('code');
  const redirectUri = p.require('redirect_uri');
  const found = ctx.codes.take(code);
  if (!found) throw new OAuthError(400, 'invalid_grant', 'AADSTS70000', "The provided value for the 'code' parameter is not valid.");
  if ('redeemed' in found) {
    throw new OAuthError(400, 'invalid_grant', 'AADSTS54005', 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.');
  }
  const g = found.grant;
  if (g.expiresAt < nowSeconds()) {
    throw new OAuthError(
      400,
      'invalid_grant',
      'AADSTS70008',
      'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
    );
  }
  if (g.tenantId !== tenant.id || g.flow !== flow.name.toLowerCase()) throw wrongEndpoint(configuredFlowName(tenant, g.flow), flow.name);
  if (g.clientId.toLowerCase() !== client.config.clientId.toLowerCase()) {
    throw new OAuthError(400, 'invalid_grant', 'AADSTS70000', "The provided value for the 'code' parameter is not valid. The code was issued to another client.");
  }
  if (g.redirectUri !== redirectUri) {
    throw new OAuthError(
      400,
      'invalid_request',
      'AADSTS50011',
      `The redirect URI '${redirectUri}' specified in the request does not match the redirect URI used in the authorization request for the application '${client.config.clientId}'.`,
    );
  }
  if (g.codeChallenge) {
    const verifier = p.require('code_verifier');
    const expected = g.codeChallengeMethod === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
    if (!VERIFIER.test(verifier) || !safeEqual(expected, g.codeChallenge)) {
      throw new OAuthError(400, 'invalid_grant', 'AADB2C90183', 'The supplied code_verifier is invalid.');
    }
  }
  const user = existingUser(ctx, tenant, g.oid);
  const scopes = resolveUserScopes(ctx.directory, tenant, client, g.scopes);
  const refresh = scopes.offlineAccess ? newRefreshToken(ctx, { tenant, flow, client, user, scopes: g.scopes, authTime: g.authTime, mfa: g.mfa }) : undefined;
  return buildUserTokenResponse({ baseUrl: ctx.baseUrl(), tenant, flow, client, user, scopes, authTime: g.authTime, nonce: g.nonce }, ctx.keys, refresh);
}

function redeemRefreshToken(ctx: IdentityContext, p: FormParams, tenant: TenantConfig, flow: UserFlowConfig, client: ResolvedApp): B2CTokenResponse {
  const token = p.require('refresh_token');
  const rec = ctx.store.state.refreshTokens[sha256Hex(token)];
  if (!rec) throw new OAuthError(400, 'invalid_grant', 'AADSTS70000', "The provided value for the 'refresh_token' parameter is not valid.");
  if (rec.expiresAt < nowSeconds()) {
    throw new OAuthError(
      400,
      'invalid_grant',
      'AADSTS700082',
      `The refresh token has expired due to inactivity. The token was issued on ${new Date(rec.issuedAt * 1000).toISOString()} and was inactive for a longer time than allowed.`,
    );
  }
  if (rec.tenantId !== tenant.id || rec.flow !== flow.name.toLowerCase()) throw wrongEndpoint(configuredFlowName(tenant, rec.flow), flow.name);
  if (rec.clientId.toLowerCase() !== client.config.clientId.toLowerCase()) {
    throw new OAuthError(400, 'invalid_grant', 'AADSTS70000', "The provided value for the 'refresh_token' parameter is not valid. It was issued to another client.");
  }
  const user = existingUser(ctx, tenant, rec.oid);
  const requested = p.get('scope')?.split(/\s+/).filter(Boolean) ?? rec.scopes;
  const scopes = resolveUserScopes(ctx.directory, tenant, client, requested);
  const refresh = newRefreshToken(ctx, { tenant, flow, client, user, scopes: requested, authTime: rec.authTime, mfa: rec.mfa });
  return buildUserTokenResponse({ baseUrl: ctx.baseUrl(), tenant, flow, client, user, scopes, authTime: rec.authTime }, ctx.keys, refresh);
}

function existingUser(ctx: IdentityContext, tenant: TenantConfig, oid: string): UserRecord {
  const user = ctx.users.byOid(tenant.id, oid);
  if (!user) throw new OAuthError(400, 'invalid_grant', 'AADB2C99002', 'This user does not exist and profile could not be read.');
  return user;
}

function configuredFlowName(tenant: TenantConfig, lower: string): string {
  return tenant.userFlows.find((f) => f.name.toLowerCase() === lower)?.name ?? lower;
}

function newRefreshToken(
  ctx: IdentityContext,
  o: { tenant: TenantConfig; flow: UserFlowConfig; client: ResolvedApp; user: UserRecord; scopes: string[]; authTime: number; mfa: boolean },
): string {
  const token = randomToken(64);
  const now = nowSeconds();
  ctx.store.state.refreshTokens[sha256Hex(token)] = {
    tenantId: o.tenant.id,
    flow: o.flow.name.toLowerCase(),
    clientId: o.client.config.clientId,
    oid: o.user.oid,
    scopes: o.scopes,
    authTime: o.authTime,
    mfa: o.mfa,
    issuedAt: now,
    expiresAt: now + o.flow.refreshTokenLifetimeDays * 86400,
  };
  ctx.store.save();
  return token;
}
