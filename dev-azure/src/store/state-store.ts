// Persisted identity state: one JSON file written atomically (temp + rename)
// so a restart keeps users, TOTP secrets, signing keys, refresh tokens,
// sessions and the assertion replay set.
import fs from 'node:fs';
import path from 'node:path';
import { nowSeconds } from '../util/encoding';

export interface SigningKeyRecord {
  kid: string;
  privateKeyPem: string;
  createdAt: number;
}

export interface TotpRecord {
  secret: string;
  /** False until the user confirmed enrolment with a valid code. */
  confirmed: boolean;
  /** Last accepted time step, so a code cannot be used twice. */
  lastStep?: number;
}

export interface UserRecord {
  oid: string;
  email: string;
  passwordHash: string;
  givenName: string;
  surname: string;
  displayName: string;
  createdAt: number;
  updatedAt: number;
  totp?: TotpRecord;
  /** External tenants: object id of this user in the B2C tenant it was migrated from. */
  legacyB2cObjectId?: string;
  /** External tenants: phone for SMS one-time passcodes. */
  phone?: string;
}

export interface RefreshTokenRecord {
  tenantId: string;
  /** Lower-cased flow name: refresh tokens only work at the flow that issued them. */
  flow: string;
  clientId: string;
  oid: string;
  scopes: string[];
  authTime: number;
  mfa: boolean;
  /** External tenants: when the session behind this grant last did a second factor. */
  mfaAt?: number;
  /**
   * Issued to an SPA reply URL (browser redemption): redeemed only cross-origin, without a client
   * credential, and expiring a fixed time after the sign-in.
   */
  spa?: boolean;
  issuedAt: number;
  expiresAt: number;
}

export interface SessionRecord {
  tenantId: string;
  oid: string;
  authTime: number;
  /** When the second factor was last verified in this session. */
  mfaAt?: number;
  createdAt: number;
  expiresAt: number;
}

export interface PersistedState {
  version: 1;
  /** Keyed by issuer: a tenant id, or "cluster:<name>". The last key is the active one. */
  signingKeys: Record<string, SigningKeyRecord[]>;
  /** Keyed by tenant id. */
  users: Record<string, UserRecord[]>;
  /** Keyed by SHA-256 (hex) of the refresh token. */
  refreshTokens: Record<string, RefreshTokenRecord>;
  /** "<client id>|<jti>" -> expiry (epoch seconds). */
  usedJtis: Record<string, number>;
  /** Keyed by SHA-256 (hex) of the session cookie. */
  sessions: Record<string, SessionRecord>;
}

function emptyState(): PersistedState {
  return { version: 1, signingKeys: {}, users: {}, refreshTokens: {}, usedJtis: {}, sessions: {} };
}

export class StateStore {
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;
  private scheduled = false;

  private constructor(
    private readonly file: string,
    readonly state: PersistedState,
  ) {}

  static open(dataDir: string): StateStore {
    const dir = path.join(dataDir, 'identity');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, 'state.json');
    let state = emptyState();
    if (fs.existsSync(file)) {
      const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<PersistedState>;
      if (parsed.version !== 1) throw new Error(`Unsupported identity state version in ${file}`);
      state = { ...emptyState(), ...parsed } as PersistedState;
    }
    const store = new StateStore(file, state);
    store.prune();
    return store;
  }

  /** Marks the state changed; the write happens soon after, coalesced with others. */
  save(): void {
    this.dirty = true;
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.writing = this.writing.then(() => this.writeNow());
    });
  }

  /** Waits until every change made so far is on disk. */
  async flush(): Promise<void> {
    await new Promise<void>((r) => setImmediate(r));
    await this.writing;
    if (this.dirty) {
      this.writing = this.writing.then(() => this.writeNow());
      await this.writing;
    }
  }

  /** Drops expired refresh tokens, sessions and replay entries. */
  prune(): void {
    const now = nowSeconds();
    // Expired refresh tokens are kept a week so a late caller hears "expired" rather than "unknown".
    for (const [k, v] of Object.entries(this.state.refreshTokens))
      if (v.expiresAt < now - 7 * 86400) delete this.state.refreshTokens[k];
    for (const [k, v] of Object.entries(this.state.sessions))
      if (v.expiresAt < now) delete this.state.sessions[k];
    for (const [k, exp] of Object.entries(this.state.usedJtis))
      if (exp < now) delete this.state.usedJtis[k];
  }

  private async writeNow(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    this.prune();
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      await fs.promises.writeFile(tmp, JSON.stringify(this.state), { mode: 0o600 });
      await fs.promises.rename(tmp, this.file);
    } catch (err) {
      this.dirty = true;
      console.error(`dev-azure: cannot write identity state: ${(err as Error).message}`);
    }
  }
}
