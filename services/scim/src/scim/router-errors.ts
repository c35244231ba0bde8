import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { adminRouterErrors } from '../admin/admin-errors';
import { errorBody } from './error-body';
import { canonicalScimUrl, isScimUrl } from './scim-routes';
import { SCIM_CONTENT_TYPE } from './schemas';

/**
 * The router's own refusals (a malformed percent-encoding 400, an over-long parameter 414) under
 * the SCIM base, in the SCIM error schema. They come before authentication, so the profile is
 * unknown and the default error shape is used; /admin ones go to adminRouterErrors. Given to service-kit's createApp as `routerErrors`.
 */
export function scimRouterErrors(
  error: FastifyError,
  req: FastifyRequest,
  reply: FastifyReply,
): boolean {
  // /admin refusals in the admin API's own error shape.
  if (adminRouterErrors(error, req, reply)) return true;
  if (!isScimUrl(req.raw.url ?? '')) return false;
  const status =
    error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  void reply
    .code(status)
    .header('content-type', SCIM_CONTENT_TYPE)
    .send(
      JSON.stringify(
        errorBody('default', { status, detail: error.message, requestId: String(req.id) }),
      ),
    );
  return true;
}

/** How scim's HTTP server is built (main.ts and the tests): its router refusals and URL canonicalisation. */
export const scimAppOptions = { routerErrors: scimRouterErrors, rewriteUrl: canonicalScimUrl };
