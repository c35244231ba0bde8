// Synchronizer-token CSRF defence: every state-changing request carries the
// session's token in a hidden field; a cross-site Origin is refused outright.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PortalError } from '../errors/portal-error';
import type { Rotation } from '../session/session-store';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * A sign-out of a session with no user whose token is not its own (a form from before a
     * timeout): accepted for the identity provider's logout only; the session (perhaps with a
     * sign-in in flight in another tab) is left as it is.
     */
    signOutAtProviderOnly?: boolean;
  }
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export function csrfTokenMatches(expected: string | undefined, given: unknown): boolean {
  if (!expected || typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** What the portal's forms send; with a parameter (`; charset=UTF-8`) or without. */
const FORM_BODY = /^application\/x-www-form-urlencoded[\t ]*(?:;|$)/i;

/** A sign-out whose form predates a sign-in (another tab) that rotated the session id. */
interface RotatedSignOut {
  /**
   * The request still carries the old cookie (it left the browser before the sign-in's answer
   * set the new one): whether that cookie was rotated moments ago and `token` was its CSRF token.
   */
  fromOldCookie(req: FastifyRequest, token: string): Promise<boolean>;
  /**
   * The request carries the current cookie but a form loaded before the sign-in: whether the
   * current session was rotated moments ago from one whose CSRF token was `token`.
   */
  intoCurrent(req: FastifyRequest, token: string): Promise<boolean>;
  /** Whether the request's cookie was rotated by a sign-in within the minute, and of which session. */
  rotationOf(req: FastifyRequest): Promise<Rotation | undefined>;
}

/**
 * A signed-in user's sign-out whose token cannot be accepted (a form older than the last minute's
 * sign-ins, or no token): answered with a confirmation page carrying the current token, not an
 * error. Nothing is signed out: another site cannot read that page, nor submit its form.
 */
export class SignOutUnconfirmed extends Error {
  constructor() {
    super('sign-out not confirmed');
    this.name = 'SignOutUnconfirmed';
  }
}

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
    const session = req.portalSession?.existing;
    if (csrfTokenMatches(session?.csrf, given)) return;
    const signOut = req.method === 'POST' && req.routeOptions.url === '/auth/sign-out';
    // A sign-out with a token of the session another tab's sign-in just replaced (old cookie, or
    // a form loaded before it): signing out must not fail and leave the user signed in.
    if (signOut && rotatedSignOut && typeof given === 'string' && given.length > 0) {
      if (
        session
          ? await rotatedSignOut.intoCurrent(req, given)
          : await rotatedSignOut.fromOldCookie(req, given)
      )
        return;
    }
    // No session at all (idle or absolute timeout, signed out in another tab, no cookie): nothing
    // here for a forged request to end, so the sign-out goes on to the identity provider's logout,
    // which any site can link to anyway. A cookie a sign-in rotated moments ago is not such a case:
    // its new session is live, and only the old session's own token may end it (above). When that
    // sign-in was an anonymous session's, no token may (a planted cookie's token is known to its
    // planter): the user is told they are signed in, not sent to the IdP's logout and home to a
    // portal session that outlived it.
    if (signOut && rotatedSignOut && !session) {
      const rotation = await rotatedSignOut.rotationOf(req);
      if (rotation === undefined) return;
      if (rotation === 'anonymous') throw PortalError.signedInMeanwhile();
    }
    // A session with no user (a sign-in started in another tab after a timeout) and a form from
    // before: no one here to sign out, so the same identity provider logout, with the session and
    // the sign-in it waits for left alone (neither is a forged request's to end).
    if (signOut && rotatedSignOut && session && !session.user) {
      req.signOutAtProviderOnly = true;
      return;
    }
    if (signOut && session?.user) throw new SignOutUnconfirmed();
    throw PortalError.csrf();
  });
}
