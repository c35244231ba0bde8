/** The session keys, current first (`SESSION_ENCRYPTION_KEY`, then `SESSION_ENCRYPTION_KEYS_PREVIOUS`). */
export const SESSION_KEYS = Symbol('SESSION_KEYS');
/** `SessionTimeouts` from the SESSION_*_TIMEOUT_SECONDS variables. */
export const SESSION_TIMEOUTS = Symbol('SESSION_TIMEOUTS');
/** The sessions' clock (epoch ms); Date.now unless a test moves it. */
export const SESSION_CLOCK = Symbol('SESSION_CLOCK');
