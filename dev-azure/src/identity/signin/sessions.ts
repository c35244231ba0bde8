// SSO sessions behind the B2C session cookie, persisted with the state.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SessionRecord, StateStore } from '../../store/state-store';
import { readCookie, setCookie } from './cookies';
import { nowSeconds, randomToken, sha256Hex } from '../../util/encoding';

export const SESSION_LIFETIME_SECONDS = 24 * 60 * 60;

export function ssoCookieName(tenantName: string): string {
  return `x-ms-cpim-sso_${tenantName}`;
}

/** B2C keeps its session in x-ms-cpim-sso, Entra (external tenants) in ESTSAUTH; one per tenant here (one host). */
export function sessionCookieFor(tenant: { name: string; type: string }): string {
  return tenant.type === 'external' ? `ESTSAUTH_${tenant.name}` : ssoCookieName(tenant.name);
}

export class SessionStore {
  constructor(private readonly store: StateStore) {}

  /** The live session for this cookie value in this tenant. */
  find(cookie: string | undefined, tenantId: string): SessionRecord | undefined {
    if (!cookie) return undefined;
    const s = this.store.state.sessions[sha256Hex(cookie)];
    return s && s.tenantId === tenantId && s.expiresAt > nowSeconds() ? s : undefined;
  }

  /** Starts a new session; returns the cookie value. */
  start(tenantId: string, oid: string, authTime: number, mfaAt?: number): string {
    const cookie = randomToken(32);
    const now = nowSeconds();
    this.store.state.sessions[sha256Hex(cookie)] = {
      tenantId,
      oid,
      authTime,
      mfaAt,
      createdAt: now,
      expiresAt: now + SESSION_LIFETIME_SECONDS,
    };
    this.store.save();
    return cookie;
  }

  markMfa(session: SessionRecord, at: number): void {
    session.mfaAt = at;
    this.store.save();
  }

  end(cookie: string | undefined): void {
    if (!cookie) return;
    delete this.store.state.sessions[sha256Hex(cookie)];
    this.store.save();
  }

  /**
   * At the end of a sign-in: a credential entered (or another user) starts a new session,
   * otherwise the current one is kept and only learns about a second factor done now.
   */
  settle(
    req: FastifyRequest,
    reply: FastifyReply,
    o: {
      cookieName: string;
      tenantId: string;
      oid: string;
      authTime: number;
      interactive: boolean;
      mfaVerifiedAt?: number;
    },
  ): void {
    const cookie = readCookie(req, o.cookieName);
    const session = this.find(cookie, o.tenantId);
    if (o.interactive || !session || session.oid !== o.oid) {
      this.end(cookie);
      setCookie(reply, o.cookieName, this.start(o.tenantId, o.oid, o.authTime, o.mfaVerifiedAt));
    } else if (o.mfaVerifiedAt) {
      this.markMfa(session, o.mfaVerifiedAt);
    }
  }
}
