// Loads the session before routing and writes it back before the response goes
// out, setting the cookie (Secure, HttpOnly, SameSite=Lax; __Host- prefix).
// When the store fails, the request ends on a 503 error page with Retry-After (never the
// database's message), and that page's own response skips the store.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PortalError } from '../errors/portal-error';
import { PortalSession } from './portal-session';
import { clearCookie, readCookie, setCookie } from './session-cookie';
import type { SessionData } from './session-data';
import type { SessionStore } from './session-store';

declare module 'fastify' {
  interface FastifyRequest {
    portalSession: PortalSession;
    /** The store failed during this request: the error response must not touch it again. */
    sessionStoreFailed?: boolean;
    /**
     * A sign-out's cookie whose session a sign-in rotated meanwhile, its CSRF token checked
     * (csrf.ts): destroying it ends the session it was rotated into.
     */
    rotatedSessionCookie?: string;
  }
}

export interface SessionHookOptions {
  store: SessionStore;
  cookieName: string;
  /** Whether a flow belongs to the configured identity provider (CustomerAuthority.issued). */
  issued: (flow: string) => boolean;
  /** The MSAL authority URL a flow has now (CustomerAuthority.url): tenant and host included. */
  authorityOf: (flow: string) => string;
  /**
   * The `issuer` of a flow's current OpenID metadata; undefined when it cannot be had now.
   * `recheck`: from a copy at most 30 s old (the cached one may predate a change at the provider).
   */
  issuerOf: (flow: string, o?: { recheck?: boolean }) => Promise<string | undefined>;
}

/**
 * A session from before a switch between B2C and External ID: its user, token cache and
 * requests belong to the other provider. Shown as signed in, it showed the other provider's
 * claims and sent its sign-out to the wrong tenant, while every API call needed a new sign-in.
 * The session stays (cookie, CSRF token); what the other provider issued is dropped.
 */
function forgetOtherProvider(
  data: SessionData,
  { issued, authorityOf }: Pick<SessionHookOptions, 'issued' | 'authorityOf'>,
): boolean {
  let dropped = false;
  if (data.user && !issued(data.user.idTokenFlow)) {
    signOut(data);
    dropped = true;
  }
  for (const [state, p] of Object.entries(data.pending))
    if (!issued(p.flow) || (p.authority !== undefined && p.authority !== authorityOf(p.flow))) {
      delete data.pending[state];
      dropped = true;
    }
  return dropped;
}

function signOut(data: SessionData): void {
  data.user = undefined;
  data.msalCache = undefined;
  data.pendingWrite = undefined;
  data.restoredWrites = undefined;
  data.profileDraft = undefined;
}

/**
 * A tenant switch within one provider (a new EXTERNAL_ID_AUTHORITY or B2C_TENANT_DOMAIN): the
 * session's ID token came from an issuer that is no longer the one configured, so its claims,
 * token cache and sign-out belong to the old tenant. Signed out like a provider switch. When the
 * metadata cannot be fetched right now the session is left as it is (the next request checks).
 */
async function forgetOtherIssuer(data: SessionData, o: SessionHookOptions): Promise<boolean> {
  const user = data.user;
  if (!user) return false;
  const matches = (issuer: string | undefined) =>
    issuer === undefined || user.claims.iss === issuer;
  if (matches(await o.issuerOf(user.idTokenFlow))) return false;
  // The cached metadata may be older than the token (the provider changed its issuer within the
  // hour): ask again before signing out, or every new sign-in would be signed out at once.
  if (matches(await o.issuerOf(user.idTokenFlow, { recheck: true }))) return false;
  signOut(data);
  return true;
}

const NO_SESSION = /^\/(healthz|readyz|metrics|static\/)/;

export function registerSessionHooks(fastify: FastifyInstance, o: SessionHookOptions): void {
  fastify.decorateRequest('portalSession', undefined as unknown as PortalSession);

  fastify.addHook('onRequest', async (req: FastifyRequest) => {
    // Probes and the stylesheet need no session: spare the database a read.
    if (NO_SESSION.test(req.url)) {
      req.portalSession = new PortalSession(undefined);
      return;
    }
    const cookie = readCookie(req, o.cookieName);
    req.portalSession = new PortalSession(undefined);
    try {
      // HEAD (link checkers, prefetchers) is not activity: it neither extends the idle window nor
      // writes anything back (onSend), so it cannot start a sign-in or use up a one-time message.
      const stored = cookie
        ? await o.store.load(cookie, { touch: req.method !== 'HEAD' })
        : undefined;
      req.portalSession = new PortalSession(stored);
      if (stored && forgetOtherProvider(stored.data, o))
        req.log.info({ reqId: req.id }, 'session of the other identity provider: signed out');
      if (stored && (await forgetOtherIssuer(stored.data, o)))
        req.log.info({ reqId: req.id }, 'session of another tenant (issuer): signed out');
    } catch (e) {
      req.sessionStoreFailed = true;
      throw PortalError.sessionStore(e);
    }
  });

  fastify.addHook('onSend', async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const s = req.portalSession;
    if (!s || req.sessionStoreFailed) return payload;
    try {
      if (req.method !== 'HEAD') await writeBack(s, req, reply, o);
    } catch (e) {
      req.sessionStoreFailed = true;
      // A form post's route has already run (a change may be saved at the policy API).
      throw PortalError.sessionStore(e, { afterRoute: req.method !== 'GET' });
    }
    // Pages carry per-user content and a CSRF token: never cache them.
    if (s.existing) reply.header('cache-control', 'no-store');
    return payload;
  });
}

/**
 * Writes the request's session back. A session that ended while this request ran (signed out,
 * rotated by a concurrent sign-in, expired) is never recreated: the store writes update-only,
 * and rotation replaces the old row only if it still exists. The cookie is left alone then: a
 * concurrent response may already have set the browser's newer one.
 */
async function writeBack(
  s: PortalSession,
  req: FastifyRequest,
  reply: FastifyReply,
  o: SessionHookOptions,
): Promise<void> {
  const stored = s.stored;
  if (s.destroyRequested) {
    const cookie = stored?.cookie ?? req.rotatedSessionCookie;
    if (cookie) await o.store.destroy(cookie);
    clearCookie(reply, o.cookieName);
    return;
  }
  if (!stored) {
    if (!s.changed) return;
    const cookie = o.store.newCookieValue();
    await o.store.create(cookie, s.data);
    setCookie(reply, o.cookieName, cookie);
    return;
  }
  let written = true;
  if (s.rotateRequested) {
    const cookie = o.store.newCookieValue();
    written = await o.store.rotate(stored.cookie, cookie, s.data, s.base);
    if (written) setCookie(reply, o.cookieName, cookie);
  } else if (s.changed || stored.staleKey) {
    written = await o.store.update(stored, s.data, s.base);
  }
  if (!written)
    req.log.info({ reqId: req.id }, 'session ended during the request: not written back');
}
