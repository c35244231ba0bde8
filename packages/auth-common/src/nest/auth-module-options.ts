import type { AuthOptions } from '../auth-options';

export interface AuthModuleOptions extends AuthOptions {
  /**
   * Require a valid token (and evaluate the authorization decorators) on every
   * HTTP route of the app, except those marked `@Public()`. Default false:
   * routes opt in with the decorators.
   */
  globalGuards?: boolean;
}
