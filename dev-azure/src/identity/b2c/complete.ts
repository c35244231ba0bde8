// End of a user flow: renew or keep the SSO session, issue the
// authorization code (and ID token for hybrid requests) and return to the
// client.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TenantConfig, UserFlowConfig } from '../../config/schema';
import { nowSeconds } from '../../util/encoding';
import type { IdentityContext } from '../context';
import { OAuthError } from '../errors';
import { resolveUserScopes, signIdToken } from '../tokens/user-token';
import { deliver, deliverError } from '../signin/respond';
import { ssoCookieName } from '../signin/sessions';
import type { AuthorizeTransaction } from '../signin/transactions';

export function completeFlow(
  ctx: IdentityContext,
  req: FastifyRequest,
  reply: FastifyReply,
  tx: AuthorizeTransaction,
  tenant: TenantConfig,
  flow: UserFlowConfig,
): FastifyReply {
  ctx.transactions.end(tx);
  const user = tx.oid ? ctx.users.byOid(tenant.id, tx.oid) : undefined;
  const client = ctx.directory.app(tx.clientId);
  if (!user || !client)
    return deliverError(
      reply,
      tx,
      'access_denied',
      'AADB2C99002: This user does not exist and profile could not be read.',
    );

  const now = nowSeconds();
  const authTime = tx.authTime ?? now;
  ctx.sessions.settle(req, reply, {
    cookieName: ssoCookieName(tenant.name),
    tenantId: tenant.id,
    oid: user.oid,
    authTime,
    interactive: tx.interactive,
    mfaVerifiedAt: tx.mfaVerifiedAt,
  });

  const mfa = flow.mfa === 'totp' && tx.mfaDone;
  const code = ctx.codes.issue({
    tenantId: tenant.id,
    flow: flow.name.toLowerCase(),
    clientId: tx.clientId,
    redirectUri: tx.redirectUri,
    oid: user.oid,
    scopes: tx.scopes,
    nonce: tx.nonce,
    codeChallenge: tx.codeChallenge,
    codeChallengeMethod: tx.codeChallengeMethod,
    authTime,
    mfa,
  });
  const params: Record<string, string | undefined> = { code, state: tx.state };
  if (tx.responseType === 'code id_token') {
    try {
      const scopes = resolveUserScopes(ctx.directory, tenant, client, tx.scopes);
      params.id_token = signIdToken(
        { baseUrl: ctx.baseUrl(), tenant, flow, client, user, scopes, authTime, nonce: tx.nonce },
        ctx.keys,
        { code },
      );
    } catch (err) {
      if (err instanceof OAuthError) return deliverError(reply, tx, err.error, err.message);
      throw err;
    }
  }
  return deliver(reply, tx.redirectUri, tx.responseMode, params);
}
