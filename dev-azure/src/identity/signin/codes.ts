// Authorization codes: single use, short-lived, bound to client, redirect
// URI, flow and PKCE challenge.
import { nowSeconds, randomToken, sha256Hex } from '../../util/encoding';

export interface AuthorizationCode {
  tenantId: string;
  /** Lower-cased flow name ('' in external tenants). */
  flow: string;
  clientId: string;
  redirectUri: string;
  oid: string;
  scopes: string[];
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  authTime: number;
  /** The authorize request had max_age: the ID token must carry auth_time (OIDC Core 3.1.2.1). */
  authTimeRequested?: boolean;
  mfa: boolean;
  /** External tenants: when the second factor behind this sign-in was done. */
  mfaAt?: number;
  /** External tenants: authentication contexts satisfied (acrs) and client capabilities declared (xms_cc). */
  acrs?: string[];
  clientCapabilities?: string[];
  expiresAt: number;
}

export const CODE_LIFETIME_SECONDS = 600;

export type CodeLookup = { grant: AuthorizationCode } | { redeemed: true } | undefined;

export class CodeStore {
  private readonly items = new Map<string, AuthorizationCode>();
  /** Recently redeemed codes, to tell "already redeemed" from "unknown". */
  private readonly redeemed = new Map<string, number>();

  issue(grant: Omit<AuthorizationCode, 'expiresAt'>): string {
    const now = nowSeconds();
    for (const [k, v] of this.items) if (v.expiresAt < now - 3600) this.items.delete(k);
    for (const [k, until] of this.redeemed) if (until < now) this.redeemed.delete(k);
    const code = randomToken(48);
    this.items.set(sha256Hex(code), { ...grant, expiresAt: now + CODE_LIFETIME_SECONDS });
    return code;
  }

  /** Removes and returns the grant: a code works once. */
  take(code: string): CodeLookup {
    const key = sha256Hex(code);
    const grant = this.items.get(key);
    if (!grant) return this.redeemed.has(key) ? { redeemed: true } : undefined;
    this.items.delete(key);
    this.redeemed.set(key, nowSeconds() + 3600);
    return { grant };
  }
}
