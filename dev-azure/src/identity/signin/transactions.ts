// In-flight authorize requests ("transactions"): what the client asked for
// and how far the user got. In memory: a restart simply restarts sign-in.
import { randomToken } from '../../util/encoding';

export type ResponseMode = 'query' | 'fragment' | 'form_post';

/** A step that mails a one-time code: reset and sign-up (email, code, password) and the second factor. */
export interface ResetProgress {
  stage: 'email' | 'code' | 'password';
  oid?: string;
  email?: string;
  code?: string;
  attempts: number;
  codeExpiresAt?: number;
}

export interface AuthorizeTransaction {
  id: string;
  /** Hidden form field; must come back with every post. */
  csrf: string;
  /** Value of the browser-binding cookie when the transaction began. */
  browser: string;
  tenantId: string;
  flowName: string;
  clientId: string;
  redirectUri: string;
  responseType: 'code' | 'code id_token';
  responseMode: ResponseMode;
  scopes: string[];
  state?: string;
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  prompt?: string;
  loginHint?: string;
  /** max_age (seconds): an older authentication is not reused, and ID tokens carry auth_time. */
  maxAge?: number;
  expiresAt: number;
  oid?: string;
  authTime?: number;
  /** A credential was entered in this transaction (so the SSO session is renewed). */
  interactive: boolean;
  mfaDone: boolean;
  /** When the second factor was entered in this transaction (not carried over from SSO). */
  mfaVerifiedAt?: number;
  /** Wrong authenticator (TOTP) codes entered in this transaction. */
  totpFailures?: number;
  profileDone: boolean;
  reset?: ResetProgress;
  /** When the session this transaction rode on (SSO) last did a second factor. */
  sessionMfaAt?: number;
  /** External tenants: authentication contexts the claims request asks for (acrs). */
  requestedAcrs?: string[];
  /** External tenants: client capabilities the claims request declares (xms_cc, e.g. cp1). */
  clientCapabilities?: string[];
  /** External tenants: self-service sign-up in progress (details entered, email to verify). */
  signUp?: ResetProgress & {
    givenName: string;
    surname: string;
    displayName: string;
    passwordHash: string;
  };
  /** External tenants: the one-time code of the second factor. */
  mfaCode?: ResetProgress & { channel: 'email' | 'sms' };
}

const LIFETIME_MS = 60 * 60 * 1000;

export class TransactionStore {
  private readonly items = new Map<string, AuthorizeTransaction>();

  create(
    t: Omit<
      AuthorizeTransaction,
      'id' | 'csrf' | 'expiresAt' | 'interactive' | 'mfaDone' | 'profileDone'
    >,
  ): AuthorizeTransaction {
    this.prune();
    const tx: AuthorizeTransaction = {
      ...t,
      id: randomToken(24),
      csrf: randomToken(24),
      expiresAt: Date.now() + LIFETIME_MS,
      interactive: false,
      mfaDone: false,
      profileDone: false,
    };
    this.items.set(tx.id, tx);
    return tx;
  }

  get(id: unknown): AuthorizeTransaction | undefined {
    if (typeof id !== 'string') return undefined;
    const tx = this.items.get(id);
    return tx && tx.expiresAt > Date.now() ? tx : undefined;
  }

  end(tx: AuthorizeTransaction): void {
    this.items.delete(tx.id);
  }

  private prune(): void {
    const now = Date.now();
    for (const [id, tx] of this.items) if (tx.expiresAt <= now) this.items.delete(id);
  }
}
