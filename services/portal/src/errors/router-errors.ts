// The router's own refusals (a malformed percent-encoding 400, an over-long parameter 414) reach
// neither the hooks nor the error page filter: without this they were service-kit's JSON body,
// on a site whose every other error is an HTML page with the correlation id.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { renderPage } from '../web/views';

// service-kit already sent default-src 'none' (and nosniff, DENY, no-store): the page's stylesheet too.
const CSP = "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'";

export function portalRouterErrors(
  error: FastifyError,
  req: FastifyRequest,
  reply: FastifyReply,
): boolean {
  const status =
    error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  const title = status === 414 ? 'Address too long' : 'Bad request';
  const message = 'This address is not one the site understands. Go back and try again.';
  void reply.header('content-security-policy', CSP);
  renderPage(req, reply, 'error', title, { heading: title, message }, status).catch(() =>
    reply
      .code(status)
      .header('content-type', 'text/plain; charset=utf-8')
      .send(`${title}. Reference: ${req.id}`),
  );
  return true;
}

/** How the portal's HTTP server is built (main.ts and the tests). */
export const portalAppOptions = { routerErrors: portalRouterErrors };
