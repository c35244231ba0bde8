// Fastify plugins and hooks of the portal, in order: security headers, sessions, CSRF; then the error page filter for everything.
import helmet from '@fastify/helmet';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import type { PortalConfig } from '../config';
import { CustomerAuthority } from '../auth/customer-authority';
import { MetadataCache } from '../auth/metadata-cache';
import { ErrorPageFilter } from '../errors/error-page.filter';
import { PortalError } from '../errors/portal-error';
import { PORTAL_LOG, type Logger } from '../log';
import { registerSessionHooks } from '../session/session.hooks';
import { readCookie } from '../session/session-cookie';
import { SessionStore, type Rotation } from '../session/session-store';
import { registerCsrfCheck } from './csrf';

/** The Content-Security-Policy: nothing inline, nothing third-party; forms may lead to the identity provider only. */
export function cspDirectives(b2cOrigin: string): Record<string, string[]> {
  return {
    defaultSrc: ["'none'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'"],
    scriptSrc: ["'none'"],
    connectSrc: ["'none'"],
    fontSrc: ["'none'"],
    objectSrc: ["'none'"],
    // Chromium checks form-action against redirects after a post too (sign-out, step-up).
    formAction: ["'self'", b2cOrigin],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
  };
}

export async function configurePortal(
  app: NestFastifyApplication,
  config: PortalConfig,
): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: cspDirectives(app.get(CustomerAuthority).origin),
    },
    referrerPolicy: { policy: 'no-referrer' },
    // Same as frame-ancestors 'none', for browsers that only know the older header.
    xFrameOptions: { action: 'deny' },
    crossOriginEmbedderPolicy: false,
  });
  // The metadata cache rethrows a remembered failure (the same Error) for 30 s: logging each
  // one would log every signed-in request during an identity provider outage.
  const loggedFailures = new WeakSet<object>();
  registerSessionHooks(fastify, {
    store: app.get(SessionStore),
    cookieName: config.SESSION_COOKIE_NAME,
    issued: (flow) => app.get(CustomerAuthority).issued(flow),
    authorityOf: (flow) => app.get(CustomerAuthority).url(flow),
    issuerOf: async (flow, recheck) => {
      try {
        const { issuer } = (await app.get(MetadataCache).get(flow, recheck)).meta;
        // A templated issuer (multi-tenant `{tenantid}`) names no one tenant: nothing to compare.
        return typeof issuer === 'string' && !issuer.includes('{') ? issuer : undefined;
      } catch (e) {
        const seen = typeof e === 'object' && e !== null && loggedFailures.has(e);
        if (!seen) {
          if (typeof e === 'object' && e !== null) loggedFailures.add(e);
          app.get<Logger>(PORTAL_LOG).warn({ err: e, flow }, 'openid-configuration unavailable');
        }
        return undefined;
      }
    },
  });
  const rotation = async (
    req: FastifyRequest,
    check: (store: SessionStore, cookie: string) => Promise<boolean>,
  ): Promise<string | undefined> => {
    const cookie = readCookie(req, config.SESSION_COOKIE_NAME);
    if (!cookie) return undefined;
    try {
      return (await check(app.get(SessionStore), cookie)) ? cookie : undefined;
    } catch (e) {
      req.sessionStoreFailed = true;
      throw PortalError.sessionStore(e);
    }
  };
  registerCsrfCheck(fastify, new URL(config.PUBLIC_BASE_URL).origin, {
    fromOldCookie: async (req, token) => {
      const cookie = await rotation(req, (store, c) => store.rotatedWithCsrf(c, token));
      if (cookie) req.rotatedSessionCookie = cookie;
      return cookie !== undefined;
    },
    intoCurrent: async (req, token) =>
      (await rotation(req, (store, c) => store.rotatedIntoWithCsrf(c, token))) !== undefined,
    rotationOf: async (req) => {
      let kind: Rotation | undefined;
      await rotation(req, async (store, c) => (kind = await store.rotationOf(c)) !== undefined);
      return kind;
    },
  });
  app.useGlobalFilters(new ErrorPageFilter(app.get<Logger>(PORTAL_LOG)));
}
