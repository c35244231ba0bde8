// The authorization code flow (+PKCE) against B2C user flows or the External ID authority. `state` is random,
// kept only in this browser's session and deleted on first use; `nonce` is
// checked against the ID token; the code verifier never leaves the server.
import { createHash, randomBytes } from 'node:crypto';
import {
  InteractionRequiredAuthError,
  ServerError,
  type AuthenticationResult,
} from '@azure/msal-node';
import { withClientSpan } from '@idp/service-kit';
import { Inject, Injectable } from '@nestjs/common';
import { PORTAL_CONFIG, redirectUriOf, type PortalConfig } from '../config';
import { PortalError } from '../errors/portal-error';
import { PORTAL_LOG, type Logger } from '../log';
import {
  budgetOf,
  limitPending,
  MAX_PENDING,
  PENDING_TTL_MS,
  type PendingBudget,
  type AuthPurpose,
  type PendingAuth,
  type PendingWrite,
  type ResumeAfterSignIn,
  type SessionData,
  type SignedInUser,
} from '../session/session-data';
import type { PortalSession } from '../session/portal-session';
import { CustomerAuthority } from './customer-authority';
import { MetadataCache } from './metadata-cache';
import { MsalClients } from './msal-clients';
import { apiScopesOf, type ApiScopes } from './scopes';

/** The user must sign in (again): no session, or MSAL cannot renew silently. */
export class SignInRequired extends Error {}

export interface StartOptions {
  prompt?: 'login';
  returnTo?: string;
  maxAge?: number;
  /** The OIDC `claims` request (External ID step-up: the API's claims challenge, decoded JSON). */
  claims?: string;
  /** A sign-in for a save whose token was refused: what to bring back after it (same user). */
  resume?: ResumeAfterSignIn;
  /** Step-up: the change to retry once verified, stored with this request's state. */
  write?: PendingWrite;
}

export type CallbackOutcome =
  | { kind: 'signedIn'; returnTo: string }
  /**
   * A used, expired or foreign response while signed in: nothing redeemed. `late`: its request
   * was still pending, past its 15 minutes (dropped now); otherwise the session is unchanged.
   */
  | { kind: 'alreadySignedIn'; late?: true }
  | { kind: 'profileUpdated' }
  | { kind: 'passwordReset' }
  | { kind: 'stepUp'; accessToken: string; write: PendingWrite | undefined }
  | { kind: 'redirect'; url: string }
  | { kind: 'cancelled'; purpose: AuthPurpose; write?: PendingWrite }
  /**
   * A sign-in asked for by a save whose token was refused came back without signing in
   * (cancelled, an error; `again`: after its 15 minutes, or as the password reset the user chose
   * there, so a fresh sign-in carries what was kept). `resume`: what it kept, if it is the
   * session user's.
   */
  | {
      kind: 'signInNotCompleted';
      returnTo: string;
      resume: ResumeAfterSignIn | undefined;
      again: boolean;
    }
  /** The identity provider answered a step-up with an error: the typed change goes back to the form. */
  | { kind: 'stepUpFailed'; write: PendingWrite | undefined };

export interface CallbackQuery {
  state?: unknown;
  code?: unknown;
  error?: unknown;
  error_description?: unknown;
}

const b64url = (b: Buffer): string => b.toString('base64url');
// The error codes of an authorization error response (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6).
const OAUTH_ERRORS = new Set([
  'invalid_request',
  'unauthorized_client',
  'access_denied',
  'unsupported_response_type',
  'invalid_scope',
  'server_error',
  'temporarily_unavailable',
  'interaction_required',
  'login_required',
  'account_selection_required',
  'consent_required',
  'invalid_request_uri',
  'invalid_request_object',
  'request_not_supported',
  'request_uri_not_supported',
  'registration_not_supported',
]);
/** The `error` for the log: the query is the browser's to write, so a known code or `other`. */
const oauthErrorOf = (error: string): string => (OAUTH_ERRORS.has(error) ? error : 'other');

/** Only same-site paths, so returnTo cannot become an open redirect. */
export function safeReturnTo(value: unknown): string | undefined {
  return typeof value === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(value) ? value : undefined;
}

@Injectable()
export class AuthService {
  readonly scopes: ApiScopes;

  constructor(
    @Inject(PORTAL_CONFIG) private readonly config: PortalConfig,
    private readonly authority: CustomerAuthority,
    private readonly metadata: MetadataCache,
    private readonly clients: MsalClients,
    @Inject(PORTAL_LOG) private readonly log: Logger,
  ) {
    this.scopes = apiScopesOf(config);
  }

  /**
   * External ID has no password-reset flow: the reset is "Forgot password?" inside a sign-in, and
   * what comes back is a sign-in (of whoever completed it), so it is completed as one.
   */
  private signsIn(purpose: AuthPurpose): boolean {
    return purpose === 'signin' || (purpose === 'reset' && this.authority.kind === 'external-id');
  }

  private scopesFor(purpose: AuthPurpose): string[] {
    if (this.signsIn(purpose))
      return ['openid', 'offline_access', this.scopes.read, this.scopes.write];
    switch (purpose) {
      case 'stepup':
        return ['openid', this.scopes.write];
      default:
        return ['openid'];
    }
  }

  /** Builds the authorize URL for `flow` and remembers the request in the session. */
  async start(
    session: PortalSession,
    purpose: AuthPurpose,
    flow: string,
    o: StartOptions = {},
  ): Promise<string> {
    const data = session.data;
    this.prune(data, budgetOf({ purpose, ...(o.resume ? { resume: o.resume } : {}) }));
    const state = b64url(randomBytes(32));
    const nonce = b64url(randomBytes(24));
    const codeVerifier = b64url(randomBytes(48));
    const codeChallenge = b64url(createHash('sha256').update(codeVerifier).digest());
    data.pending[state] = {
      purpose,
      flow,
      authority: this.authority.url(flow),
      nonce,
      codeVerifier,
      createdAt: Date.now(),
      ...(o.returnTo ? { returnTo: o.returnTo } : {}),
      ...(o.claims ? { claims: o.claims } : {}),
      ...(o.write ? { write: o.write } : {}),
      ...(o.resume ? { resume: o.resume } : {}),
    };
    const cca = await this.clients.forFlow(flow);
    return cca.getAuthCodeUrl({
      scopes: this.scopesFor(purpose),
      redirectUri: redirectUriOf(this.config),
      responseMode: 'query',
      state,
      nonce,
      codeChallenge,
      codeChallengeMethod: 'S256',
      ...(o.prompt ? { prompt: o.prompt } : {}),
      ...(o.maxAge !== undefined ? { extraQueryParameters: { max_age: String(o.maxAge) } } : {}),
      ...(o.claims ? { claims: o.claims } : {}),
      ...(purpose !== 'signin' && data.user
        ? loginHintOf(this.authority.kind, data.user.claims)
        : {}),
    });
  }

  /** Handles /auth/redirect: checks state (single use, this session's), then redeems the code. */
  async complete(session: PortalSession, q: CallbackQuery): Promise<CallbackOutcome> {
    const data = session.existing;
    const state = typeof q.state === 'string' ? q.state : undefined;
    // Own keys only: a state named like an Object.prototype member (`__proto__`, `constructor`)
    // must not find the prototype's value and pass for a request this browser started.
    const pending =
      state && data && Object.hasOwn(data.pending, state) ? data.pending[state] : undefined;
    // No session at all: it ended while the user was at the identity provider (idle, absolute
    // timeout, signed out in another tab), or the response belongs to another browser.
    if (!data) throw PortalError.sessionEnded();
    if (!state || !pending || Date.now() - pending.createdAt > PENDING_TTL_MS) {
      if (data.user) {
        // Still here, so never answered, but too late: nothing is redeemed, and what the user
        // typed for it (a step-up's change, a save that needed a sign-in) is not dropped silently.
        if (pending && state) {
          delete data.pending[state];
          return notCompleted(pending, data, true) ?? { kind: 'alreadySignedIn', late: true };
        }
        // A signed-in user who comes back to a used response (reload, back button, a restored
        // tab) is where they meant to be: home, with nothing redeemed and nothing changed.
        return { kind: 'alreadySignedIn' };
      }
      throw PortalError.signInState();
    }
    delete data.pending[state]; // single use, whatever happens next

    if (q.error !== undefined)
      return this.failed(
        session,
        pending,
        String(q.error),
        typeof q.error_description === 'string' ? q.error_description : '',
      );
    if (typeof q.code !== 'string' || q.code.length === 0 || q.code.length > 4096)
      throw PortalError.badRequest('The sign-in response has no authorization code.');

    // Sign-in fills this session's cache; other flows' tokens are used once and dropped.
    const signsIn = this.signsIn(pending.purpose);
    if (signsIn) data.msalCache = undefined;
    const cca = await this.clients.forFlow(pending.flow, signsIn ? data : undefined);
    let result: AuthenticationResult;
    try {
      // A CLIENT span around MSAL (its HTTP exchange is a child); only the flow name is recorded.
      const code = q.code;
      result = await withClientSpan(
        'msal acquireTokenByCode',
        this.spanAttributes(pending.flow),
        () =>
          cca.acquireTokenByCode(
            {
              code,
              scopes: this.scopesFor(pending.purpose),
              redirectUri: redirectUriOf(this.config),
              codeVerifier: pending.codeVerifier,
              nonce: pending.nonce,
              ...(pending.claims ? { claims: pending.claims } : {}),
            },
            { code, nonce: pending.nonce },
          ),
      );
    } catch (e) {
      const code = (e as { errorCode?: string }).errorCode;
      this.log.warn({ err: { name: (e as Error).name, code } }, 'code redemption failed');
      // No answer in time (or no connection): the provider is unavailable, the sign-in was not refused.
      if (code === 'network_error') throw PortalError.upstream('Sign-in service');
      throw PortalError.signInFailed();
    }
    const claims = result.idTokenClaims as Record<string, unknown>;
    if (claims.nonce !== pending.nonce) throw PortalError.signInFailed();
    const oid =
      typeof claims.oid === 'string'
        ? claims.oid
        : typeof claims.sub === 'string'
          ? claims.sub
          : undefined;
    if (!oid || !result.account) throw PortalError.signInFailed();

    if (signsIn) {
      session.rotate();
      data.csrf = b64url(randomBytes(32));
      // Values kept for the form are someone else's after a sign-in by another account; the same
      // user's stay (another tab's sign-in must not drop the rows this one brought back).
      if (data.user?.oid !== oid) {
        data.pendingWrite = undefined;
        data.restoredWrites = undefined;
        data.profileDraft = undefined;
      }
      // Changes typed before this sign-in (perhaps by someone else) are not this user's to verify.
      for (const [key, p] of Object.entries(data.pending))
        if (p.purpose === 'stepup') delete data.pending[key];
      // What a save that needed this sign-in kept: back on its form, for the one who typed it.
      const resume = pending.resume;
      if (resume && resume.oid === oid) {
        if (resume.flash) data.flash = resume.flash;
        if (resume.beneficiaries)
          data.restoredWrites = [resume.beneficiaries, ...(data.restoredWrites ?? [])].slice(
            0,
            MAX_PENDING,
          );
        // Shown within 15 minutes of this sign-in, like any other pending state.
        if (resume.profile) data.profileDraft = { ...resume.profile, createdAt: Date.now() };
      }
      data.user = {
        oid,
        homeAccountId: result.account.homeAccountId,
        claims,
        idTokenFlow: pending.flow,
        signedInAt: Date.now(),
      };
      this.log.info({ oid, flow: pending.flow }, 'signed in');
      return pending.purpose === 'reset'
        ? { kind: 'passwordReset' }
        : { kind: 'signedIn', returnTo: pending.returnTo ?? '/' };
    }
    switch (pending.purpose) {
      case 'signin': // completed above
      case 'profile':
      case 'reset':
        if (data.user && data.user.oid === oid) {
          data.user.claims = claims;
          data.user.idTokenFlow = pending.flow;
        }
        // A reset chosen at the sign-in a save asked for ("Forgot your password?"): the tokens are
        // still refused, so a fresh sign-in (usually answered at once) carries what was kept.
        if (pending.purpose === 'reset' && pending.resume) {
          const again = notCompleted(pending, data, true);
          if (again?.kind === 'signInNotCompleted' && again.resume) return again;
        }
        return pending.purpose === 'profile'
          ? { kind: 'profileUpdated' }
          : { kind: 'passwordReset' };
      case 'stepup':
        // Someone else's MFA must not authorise this user's change.
        if (!data.user || data.user.oid !== oid || !result.accessToken)
          throw PortalError.signInFailed();
        return { kind: 'stepUp', accessToken: result.accessToken, write: pending.write };
    }
  }

  private async failed(
    session: PortalSession,
    pending: PendingAuth,
    error: string,
    description: string,
  ): Promise<CallbackOutcome> {
    if (this.authority.kind === 'external-id') {
      // Entra: the user cancelled (or declined a one-time passcode); the rest is logged by code only.
      if (error === 'access_denied' && !TOO_MANY_CODES.test(description))
        return cancelled(pending, session.existing);
      this.log.warn(
        { error: oauthErrorOf(error), aadsts: /AADSTS\d+/.exec(description)?.[0] },
        'authorization error response',
      );
      const kept = notCompleted(pending, session.existing);
      if (kept) return kept;
      throw new PortalError(
        400,
        'Sign-in could not be completed',
        'The identity provider reported an error. Please try again.',
      );
    }
    // B2C: "Forgot your password?" on the sign-in page comes back as AADB2C90118.
    // A sign-in a save asked for hands what it kept to the reset, and on to the sign-in after it.
    if (description.includes('AADB2C90118')) {
      const kept = pending.resume
        ? {
            resume: pending.resume,
            ...(pending.returnTo ? { returnTo: pending.returnTo } : {}),
          }
        : {};
      return {
        kind: 'redirect',
        url: await this.start(session, 'reset', this.authority.flowName('passwordReset'), kept),
      };
    }
    if (
      description.includes('AADB2C90091') ||
      (error === 'access_denied' && !TOO_MANY_CODES.test(description))
    )
      return cancelled(pending, session.existing);
    this.log.warn(
      { error: oauthErrorOf(error), b2c: /AADB2C\d+/.exec(description)?.[0] },
      'authorization error response',
    );
    const kept = notCompleted(pending, session.existing);
    if (kept) return kept;
    throw new PortalError(
      400,
      'Sign-in could not be completed',
      'The identity provider reported an error. Please try again.',
    );
  }

  /**
   * A new sign-in for a form post whose token was refused (refresh token expired or revoked):
   * `resume` (what was typed, or that the change was saved) waits with this request's state, so
   * it never travels in a URL; returns the authorize URL.
   */
  signInAgain(
    session: PortalSession,
    returnTo: string,
    resume: Omit<ResumeAfterSignIn, 'oid'>,
  ): Promise<string> {
    const oid = session.existing?.user?.oid;
    if (!oid) throw new SignInRequired();
    return this.start(session, 'signin', this.authority.flowName('signUpSignIn'), {
      returnTo,
      resume: { oid, ...resume },
    });
  }

  /** An access token for the policy API from this user's cache (refreshing it when needed). */
  async apiToken(session: PortalSession, scope: string): Promise<string> {
    return (await this.silent(session, scope)).accessToken;
  }

  /**
   * Renews the tokens (a new ID token with the directory's current values) and shows its claims:
   * after a Graph profile change, which no redirect brings back.
   */
  async refreshClaims(session: PortalSession): Promise<void> {
    const r = await this.silent(session, this.scopes.read, true);
    const user = session.data.user;
    const claims = r.idTokenClaims as Record<string, unknown> | undefined;
    if (!user || !claims || (claims.oid ?? claims.sub) !== user.oid) return;
    user.claims = claims;
  }

  private async silent(
    session: PortalSession,
    scope: string,
    forceRefresh = false,
  ): Promise<AuthenticationResult> {
    const data = session.existing;
    if (!data?.user) throw new SignInRequired();
    const cca = await this.clients.forFlow(this.authority.flowName('signUpSignIn'), data);
    const account = await cca.getTokenCache().getAccountByHomeId(data.user.homeAccountId);
    if (!account) throw new SignInRequired();
    try {
      const r = await withClientSpan(
        'msal acquireTokenSilent',
        { 'peer.service': this.authority.peerService },
        () =>
          cca.acquireTokenSilent({
            account,
            scopes: [scope],
            ...(forceRefresh ? { forceRefresh } : {}),
          }),
      );
      if (!r.accessToken) throw new SignInRequired();
      return r;
    } catch (e) {
      if (e instanceof InteractionRequiredAuthError || e instanceof SignInRequired)
        throw new SignInRequired();
      // The refresh token was refused (expired after inactivity, revoked, password changed:
      // AADSTS700082, AADSTS70000, AADSTS50173). MSAL reports that as a plain ServerError when the
      // provider gives no suberror; only a new sign-in helps, not a "try later" page.
      if (e instanceof ServerError && e.errorCode === 'invalid_grant') {
        this.log.info({ err: { name: e.name, code: e.errorCode } }, 'refresh token refused');
        throw new SignInRequired();
      }
      this.log.warn(
        { err: { name: (e as Error).name, code: (e as { errorCode?: string }).errorCode } },
        'silent token failed',
      );
      throw PortalError.upstream('Sign-in service');
    }
  }

  /**
   * The logout URL of the user flow that issued the ID token (ends the B2C / External ID session,
   * comes back to the portal). OIDC RP-Initiated Logout names the application with `client_id`
   * instead of `id_token_hint`: the browser follows this URL, and the ID token (names, email) must
   * not travel in it. `logout_hint` is the ID token's `login_hint` claim, where the tenant emits it
   * (an opaque value that lets Entra skip its account picker).
   */
  async logoutUrl(user: SignedInUser | undefined): Promise<string> {
    const flow = user?.idTokenFlow ?? this.authority.flowName('signUpSignIn');
    // The provider's metadata may be unavailable (outage, no cached copy): the session is ended
    // anyway, so send the browser to the flow's standard logout path instead of a 500 page.
    const meta = await this.metadata.get(flow).then(
      (e) => e.meta,
      () => undefined,
    );
    const endpoint = meta?.end_session_endpoint ?? `${this.authority.url(flow)}/oauth2/v2.0/logout`;
    const u = new URL(endpoint);
    u.searchParams.set('post_logout_redirect_uri', `${this.config.PUBLIC_BASE_URL}/`);
    u.searchParams.set('client_id', this.authority.clientId);
    const loginHint = user?.claims.login_hint;
    if (typeof loginHint === 'string' && loginHint !== '')
      u.searchParams.set('logout_hint', loginHint);
    return u.toString();
  }

  private spanAttributes(flow: string): Record<string, string> {
    return this.authority.kind === 'b2c'
      ? { 'peer.service': 'b2c', 'b2c.user_flow': flow }
      : { 'peer.service': this.authority.peerService };
  }

  /** Drops expired requests, and the oldest of `budget` to make room for one more. */
  private prune(data: SessionData, budget: PendingBudget): void {
    const now = Date.now();
    const live = Object.entries(data.pending).filter(([, p]) => now - p.createdAt < PENDING_TTL_MS);
    data.pending = limitPending(Object.fromEntries(live), MAX_PENDING - 1, budget);
  }
}

/**
 * Too many wrong one-time codes also end the attempt with `access_denied`: Entra's AADSTS500121
 * (strong authentication failed), B2C's AADB2C90151 (retries exceeded). That is a failed
 * verification, not a cancel: the user is told it failed, not that they cancelled it.
 */
const TOO_MANY_CODES = /\b(?:AADSTS500121|AADB2C90151)\b/;

/** The user turned the request down: the step-up's typed change goes back to the form. */
function cancelled(pending: PendingAuth, data: SessionData | undefined): CallbackOutcome {
  const kept = pending.resume ? notCompleted(pending, data) : undefined;
  if (kept) return kept;
  return {
    kind: 'cancelled',
    purpose: pending.purpose,
    ...(pending.write ? { write: pending.write } : {}),
  };
}

/** B2C puts the address in `emails`; External ID in `email` (optional claim) and `preferred_username`. */
function loginHintOf(
  kind: CustomerAuthority['kind'],
  claims: Record<string, unknown>,
): { loginHint?: string } {
  const e = claims.emails;
  if (kind === 'b2c')
    return e ? { loginHint: Array.isArray(e) && typeof e[0] === 'string' ? e[0] : undefined } : {};
  const hint = [claims.email, claims.preferred_username].find(
    (v): v is string => typeof v === 'string' && v.length > 0,
  );
  return hint ? { loginHint: hint } : {};
}

/**
 * A request that holds what the user typed, answered with an error or too late: a step-up's
 * change goes back to the form with the reason; a sign-in's kept values are handed on, if they
 * are the session user's (a sign-in by someone else since then does not get them). Else undefined.
 */
function notCompleted(
  pending: PendingAuth,
  data: SessionData | undefined,
  again = false,
): CallbackOutcome | undefined {
  if (pending.purpose === 'stepup') return { kind: 'stepUpFailed', write: pending.write };
  if (!pending.resume) return undefined;
  const mine = data?.user !== undefined && pending.resume.oid === data.user.oid;
  return {
    kind: 'signInNotCompleted',
    returnTo: pending.returnTo ?? '/',
    resume: mine ? pending.resume : undefined,
    again,
  };
}
