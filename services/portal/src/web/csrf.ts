// Synchronizer-token CSRF defence: every state-changing request carries the
// session's token in a hidden field; a cross-site Origin is refused outright.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PortalError } from '../errors/portal-error';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export function csrfTokenMatches(expected: string | undefined, given: unknown): boolean {
  if (!expected || typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** What the portal's forms send; with a parameter (`; charset=UTF-8`) or without. */
const FORM_BODY = /^application\/x-www-form-urlencoded[\t ]*(?:;|$)/i;

/**
 * A sign-out whose session a sign-in (another tab) rotated while it was on its way: whether the
 * request's cookie was rotated moments ago and `token` was that session's CSRF token.
 */
type RotatedSignOut = (req: FastifyRequest, token: string) => Promise<boolean>;

export function registerCsrfCheck(
  fastify: FastifyInstance,
  publicOrigin: string,
  rotatedSignOut?: RotatedSignOut,
): void {
  // Every form is urlencoded: another body type (JSON, text/plain, multipart) is refused before it
  // is parsed, so no handler sees values of types a form cannot send.
  // A route that does not exist (or not for this method) is a 404/405 page, whatever the body.
  fastify.addHook('preParsing', async (req: FastifyRequest, _reply, payload) => {
    const type = req.headers['content-type'];
    if (!SAFE.has(req.method) && !req.is404 && type !== undefined && !FORM_BODY.test(type))
      throw PortalError.unsupportedMediaType();
    return payload;
  });
  fastify.addHook('preHandler', async (req: FastifyRequest) => {
    if (SAFE.has(req.method) || req.is404) return;
    const origin = req.headers.origin;
    if (origin && origin !== 'null' && origin !== publicOrigin) throw PortalError.csrf();
    const body = req.body as Record<string, unknown> | undefined;
    const given = body?._csrf;
    if (csrfTokenMatches(req.portalSession?.existing?.csrf, given)) return;
    // The old cookie and the old session's own token: signing out must not fail (and leave the
    // user signed in under the new id) because another tab's sign-in won the race.
    if (
      rotatedSignOut &&
      req.method === 'POST' &&
      req.routeOptions.url === '/auth/sign-out' &&
      !req.portalSession?.existing &&
      typeof given === 'string' &&
      (await rotatedSignOut(req, given))
    )
      return;
    throw PortalError.csrf();
  });
}
