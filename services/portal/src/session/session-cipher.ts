// AES-256-GCM for session rows. The row id is the additional authenticated
// data, so a ciphertext copied into another row does not decrypt. Several keys
// can be configured: the first encrypts, all decrypt (rotation).
import { Inject, Injectable } from '@nestjs/common';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { SESSION_KEYS } from './session.tokens';

const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface Sealed {
  keyId: string;
  data: Buffer;
}

@Injectable()
export class SessionCipher {
  private readonly keys: Map<string, Buffer>;
  private readonly currentId: string;
  private readonly currentKey: Buffer;

  /** `keys[0]` is the current key; the rest are older keys still accepted for reading. */
  constructor(@Inject(SESSION_KEYS) keys: readonly string[]) {
    const [current] = keys;
    if (current === undefined) throw new Error('SessionCipher needs at least one key');
    this.keys = new Map(
      keys.map((k) => Buffer.from(k, 'base64')).map((k) => [SessionCipher.keyIdOf(k), k]),
    );
    this.currentKey = Buffer.from(current, 'base64');
    this.currentId = SessionCipher.keyIdOf(this.currentKey);
  }

  /** A short, non-secret name for a key (so rows say which key sealed them). */
  static keyIdOf(key: Buffer): string {
    return createHash('sha256')
      .update('portal-session-key:')
      .update(key)
      .digest('hex')
      .slice(0, 16);
  }

  seal(plaintext: string, aad: string): Sealed {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.currentKey, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { keyId: this.currentId, data: Buffer.concat([iv, cipher.getAuthTag(), body]) };
  }

  /** undefined when the key is unknown (retired) or the data was tampered with. */
  open(sealed: Sealed, aad: string): string | undefined {
    const key = this.keys.get(sealed.keyId);
    if (!key || sealed.data.length < IV_BYTES + TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.data.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(sealed.data.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([
        decipher.update(sealed.data.subarray(IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      return undefined;
    }
  }

  isCurrent(keyId: string): boolean {
    return keyId === this.currentId;
  }
}
