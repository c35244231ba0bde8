/**
 * Key Vault key identifiers (`https://{vault}/keys/{name}/{version}`) checked against the one
 * vault the broker is configured for. A certificate or sign response naming a key of another
 * vault is never followed or believed: the SDK would send the sign request, with the broker's
 * Key Vault access token, to whatever origin the key id names.
 */
export interface KeyRef {
  origin: string;
  /** Lower-cased: Key Vault object names are case-insensitive. */
  name: string;
  version: string;
}

const KEY_PATH = /^\/keys\/([0-9A-Za-z-]{1,127})\/([0-9A-Za-z]{1,64})\/?$/;

/** The key a versioned key id names, or undefined when it is not one. */
export function parseKeyId(id: unknown): KeyRef | undefined {
  if (typeof id !== 'string') return undefined;
  let url: URL;
  try {
    url = new URL(id);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' || url.username || url.password || url.search || url.hash)
    return undefined;
  const m = KEY_PATH.exec(url.pathname);
  if (!m) return undefined;
  return { origin: url.origin, name: (m[1] as string).toLowerCase(), version: m[2] as string };
}

/** The origin of KEY_VAULT_URL (a bare https origin, validated at start). */
export const vaultOrigin = (keyVaultUrl: string): string => new URL(keyVaultUrl).origin;

/** Whether two key ids name the same key version (versions compared case-insensitively). */
export const sameKey = (a: KeyRef, b: KeyRef): boolean =>
  a.origin === b.origin && a.name === b.name && a.version.toLowerCase() === b.version.toLowerCase();
