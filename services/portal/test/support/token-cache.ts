// What time and the identity provider do to a session's MSAL token cache, applied to the stored
// session: access tokens expired, the refresh token refused (expired after inactivity, revoked).
import type { SessionStore } from '../../src/session/session-store';

type CacheSection = Record<string, Record<string, string>>;
export type TokenCache = Record<string, CacheSection>;

/** Rewrites the serialised MSAL cache of `cookie`'s session. */
export async function ageCache(
  store: SessionStore,
  cookie: string,
  change: (cache: TokenCache) => void,
): Promise<void> {
  const s = await store.load(cookie);
  if (!s) throw new Error('no session to age');
  const cache = JSON.parse(s.data.msalCache ?? '{}') as TokenCache;
  change(cache);
  if (!(await store.update(s, { ...s.data, msalCache: JSON.stringify(cache) }, s.data)))
    throw new Error('the aged cache was not written');
}

export const expireAccessTokens = (cache: TokenCache): void => {
  for (const at of Object.values(cache.AccessToken ?? {})) {
    at.expires_on = '1';
    at.extended_expires_on = '1';
  }
};

/** The provider no longer accepts the refresh token (`invalid_grant` when it is used). */
export const revokeRefreshTokens = (cache: TokenCache): void => {
  for (const rt of Object.values(cache.RefreshToken ?? {})) rt.secret = 'revoked-at-the-idp';
};
