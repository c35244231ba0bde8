// /{tenant}/{flow}/oauth2/v2.0/logout: ends the SSO session, then returns
// to post_logout_redirect_uri if it is registered for the client named by
// id_token_hint (or client_id).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TenantConfig } from '../../config/schema';
import type { IdentityContext } from '../context';
import { OAuthError } from '../errors';
import { FormParams } from '../form-params';
import { issuerFor } from '../issuers';
import { claimAudiences, claimString, decodeJwt, verifyJwtSignature } from '../jwt';
import { clearCookie, readCookie } from './cookies';
import { errorPage } from './html';
import { signedOutPage } from './pages';
import { redirectUriAllowed } from './redirect-uri';
import { sessionCookieFor } from './sessions';

export function handleLogout(
  ctx: IdentityContext,
  req: FastifyRequest,
  reply: FastifyReply,
  tenant: TenantConfig,
): FastifyReply {
  let p: FormParams;
  let postLogout: string | undefined;
  let hint: string | undefined;
  let state: string | undefined;
  let clientIdParam: string | undefined;
  try {
    p = FormParams.from(req.method === 'POST' ? req.body : req.query);
    postLogout = p.get('post_logout_redirect_uri');
    hint = p.get('id_token_hint');
    state = p.get('state');
    clientIdParam = p.get('client_id');
  } catch (err) {
    if (err instanceof OAuthError) return errorPage(reply, 400, err.code, err.detail);
    throw err;
  }

  let clientId = clientIdParam;
  if (hint !== undefined) {
    // Expired hints are fine (the user may come back much later); forged ones are not.
    const jwt = decodeJwt(hint);
    const key =
      jwt && typeof jwt.header.kid === 'string'
        ? ctx.keys.publicKey(tenant.id, jwt.header.kid)
        : undefined;
    if (
      !jwt ||
      !key ||
      !verifyJwtSignature(jwt, key) ||
      claimString(jwt.payload, 'iss') !== issuerFor(ctx.baseUrl(), tenant)
    ) {
      return errorPage(
        reply,
        400,
        '',
        'The id_token_hint parameter is not a valid ID token issued by this tenant.',
      );
    }
    clientId = claimAudiences(jwt.payload)[0];
  }

  const cookieName = sessionCookieFor(tenant);
  ctx.sessions.end(readCookie(req, cookieName));
  clearCookie(reply, cookieName);

  if (!postLogout) return signedOutPage(reply);
  const client = clientId ? ctx.directory.app(clientId) : undefined;
  if (!client || client.home !== tenant) {
    return errorPage(
      reply,
      400,
      '',
      'The post_logout_redirect_uri cannot be checked: give id_token_hint (or client_id) of a registered application.',
    );
  }
  if (
    !redirectUriAllowed(
      [
        ...client.config.redirectUris,
        ...client.config.spaRedirectUris,
        ...client.config.logoutUris,
      ],
      postLogout,
    )
  ) {
    return tenant.type === 'external'
      ? errorPage(
          reply,
          400,
          'AADSTS50011',
          `The post_logout_redirect_uri '${postLogout}' is not registered for the application '${client.config.clientId}'.`,
        )
      : errorPage(
          reply,
          400,
          'AADB2C90006',
          `The redirect URI '${postLogout}' provided in the request is not registered for the client id '${client.config.clientId}'.`,
        );
  }
  const target = state
    ? `${postLogout}${postLogout.includes('?') ? '&' : '?'}${new URLSearchParams({ state }).toString()}`
    : postLogout;
  return reply.redirect(target, 302);
}
