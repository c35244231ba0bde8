// B2C local accounts (email sign-in), persisted with scrypt password hashes.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { TenantConfig } from '../../config/schema';
import type { StateStore, UserRecord } from '../../store/state-store';
import { newGuid } from '../../util/encoding';

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;
const N = 16384;
const R = 8;
const P = 1;
const KEYLEN = 32;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, KEYLEN, {
    N,
    r: R,
    p: P,
    maxmem: 64 * 1024 * 1024,
  });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 64 * 1024 * 1024,
  });
  return timingSafeEqual(actual, expected);
}

export interface NewUser {
  email: string;
  password: string;
  givenName: string;
  surname: string;
  displayName: string;
  oid?: string;
  legacyB2cObjectId?: string;
  phone?: string;
}

export class UserStore {
  constructor(private readonly store: StateStore) {}

  /** Creates the configured seed users that do not exist yet (by object id or email). */
  async seed(tenant: TenantConfig): Promise<void> {
    for (const u of tenant.users) {
      if (this.byOid(tenant.id, u.objectId) || this.byEmail(tenant.id, u.email)) continue;
      await this.create(tenant.id, { ...u, oid: u.objectId });
    }
  }

  list(tenantId: string): UserRecord[] {
    return (this.store.state.users[tenantId] ??= []);
  }

  byEmail(tenantId: string, email: string): UserRecord | undefined {
    const lower = email.trim().toLowerCase();
    return this.list(tenantId).find((u) => u.email.toLowerCase() === lower);
  }

  byOid(tenantId: string, oid: string): UserRecord | undefined {
    const lower = oid.toLowerCase();
    return this.list(tenantId).find((u) => u.oid === lower);
  }

  async create(tenantId: string, u: NewUser): Promise<UserRecord> {
    return this.add(tenantId, u, await hashPassword(u.password));
  }

  /** Adds a user whose password is already hashed (sign-up hashes before the email is verified). */
  add(tenantId: string, u: Omit<NewUser, 'password'>, passwordHash: string): UserRecord {
    const now = Date.now();
    const record: UserRecord = {
      oid: (u.oid ?? newGuid()).toLowerCase(),
      email: u.email.trim(),
      passwordHash,
      givenName: u.givenName,
      surname: u.surname,
      displayName: u.displayName,
      createdAt: now,
      updatedAt: now,
      ...(u.legacyB2cObjectId ? { legacyB2cObjectId: u.legacyB2cObjectId.toLowerCase() } : {}),
      ...(u.phone ? { phone: u.phone } : {}),
    };
    this.list(tenantId).push(record);
    this.store.save();
    return record;
  }

  /** Checks email + password; undefined when either is wrong (no hint which). */
  async authenticate(
    tenantId: string,
    email: string,
    password: string,
  ): Promise<UserRecord | undefined> {
    const user = this.byEmail(tenantId, email);
    if (!user) {
      await hashPassword(password); // same work either way
      return undefined;
    }
    return (await verifyPassword(password, user.passwordHash)) ? user : undefined;
  }

  async setPassword(user: UserRecord, password: string): Promise<void> {
    user.passwordHash = await hashPassword(password);
    user.updatedAt = Date.now();
    this.store.save();
  }

  updateProfile(
    user: UserRecord,
    p: { givenName: string; surname: string; displayName: string },
  ): void {
    Object.assign(user, p, { updatedAt: Date.now() });
    this.store.save();
  }

  changed(): void {
    this.store.save();
  }
}
