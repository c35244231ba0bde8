/** Name of the passport strategy (also usable with `AuthGuard('azure-ad-jwt')`). */
export const AZURE_AD_JWT_STRATEGY = 'azure-ad-jwt';

/** Injection token of the validated {@link AuthModuleOptions}. */
export const AUTH_MODULE_OPTIONS = Symbol('AUTH_MODULE_OPTIONS');
/** Injection token of this module's own passport instance (not the process-wide one). */
export const AUTH_PASSPORT = Symbol('AUTH_PASSPORT');

export const IS_PUBLIC_KEY = 'auth-common:public';
export const REQUIRED_SCOPES_KEY = 'auth-common:scopes';
export const REQUIRED_ROLES_KEY = 'auth-common:roles';
export const SCOPE_OR_ROLE_KEY = 'auth-common:scope-or-role';
export const STEP_UP_KEY = 'auth-common:step-up';
