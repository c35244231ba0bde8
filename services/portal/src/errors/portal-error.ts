// Errors the user may see: a status, a safe message, never internals.
import { DATABASE_RETRY_AFTER_SECONDS } from '@idp/service-kit';

export class PortalError extends Error {
  /** Sent as Retry-After (a 503 the user can retry). */
  retryAfterSeconds?: number;

  constructor(
    readonly status: number,
    readonly title: string,
    readonly userMessage: string,
  ) {
    super(userMessage);
    this.name = 'PortalError';
  }

  static csrf(): PortalError {
    return new PortalError(
      403,
      'Request refused',
      'This form has expired or did not come from this site. Go back, reload the page and try again.',
    );
  }

  /**
   * A sign-out that still carried the cookie of a session another tab's sign-in replaced a
   * moment ago: nothing was signed out, and the user must know they are signed in.
   */
  static signedInMeanwhile(): PortalError {
    return new PortalError(
      409,
      'You are still signed in',
      'You signed in again in another window a moment ago, so you were not signed out. To sign out, reload the page and use Sign out again.',
    );
  }

  static signInState(): PortalError {
    return new PortalError(
      400,
      'Sign-in could not be completed',
      'This sign-in response is not one this browser started, or it was already used. Please sign in again.',
    );
  }

  /** A sign-in response arrived with no session (it ended meanwhile, e.g. idle during a step-up). */
  static sessionEnded(): PortalError {
    return new PortalError(
      400,
      'Your session has ended',
      'Your session ended before the sign-in or verification came back, for example after a long pause. Nothing was changed. Please sign in again.',
    );
  }

  static signInFailed(): PortalError {
    return new PortalError(
      400,
      'Sign-in could not be completed',
      'The identity provider did not accept the sign-in. Please try again.',
    );
  }

  static upstream(what: string): PortalError {
    return new PortalError(
      502,
      'Service unavailable',
      `${what} is not available right now. Please try again in a moment.`,
    );
  }

  /**
   * The session database cannot be read or written (the cause goes to the log only), retry in
   * `retryAfterSeconds`. `afterRoute`: the write-back after the route did its work failed, so
   * what a form sent (e.g. to the policy API) may already be done: the user must check first.
   */
  static sessionStore(cause: unknown, o: { afterRoute?: boolean } = {}): PortalError {
    return Object.assign(
      new PortalError(
        503,
        'Temporarily unavailable',
        o.afterRoute
          ? 'We cannot reach your session right now, so we could not confirm that your request went through. It may already be done: check before you try again in a moment.'
          : 'We cannot reach your session right now. Please try again in a moment.',
      ),
      { cause, retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS },
    );
  }

  static unsupportedMediaType(): PortalError {
    return new PortalError(
      415,
      'Request refused',
      'This page only accepts its own form. Go back, reload the page and try again.',
    );
  }

  static badRequest(message: string): PortalError {
    return new PortalError(400, 'Bad request', message);
  }
}
