// The session cipher alone (no database): AES-256-GCM bound to the row id, key rotation.
import { randomBytes } from 'node:crypto';
import { SessionCipher } from '../../src/session/session-cipher';

const key = () => randomBytes(32).toString('base64');
const SECRET = 'secret-refresh-token-value';

describe('session cipher (AES-256-GCM, row id as AAD)', () => {
  it('keeps only ciphertext and opens it again for the same row', () => {
    const cipher = new SessionCipher([key()]);
    const sealed = cipher.seal(SECRET, 'row-a');
    expect(sealed.data.toString('latin1')).not.toContain(SECRET);
    expect(cipher.open(sealed, 'row-a')).toBe(SECRET);
  });

  it('refuses a ciphertext moved to another row, and a tampered one', () => {
    const cipher = new SessionCipher([key()]);
    const sealed = cipher.seal(SECRET, 'row-a');
    expect(cipher.open(sealed, 'row-b')).toBeUndefined();
    const tampered = Buffer.from(sealed.data);
    tampered[40] = (tampered[40] ?? 0) ^ 1;
    expect(cipher.open({ keyId: sealed.keyId, data: tampered }, 'row-a')).toBeUndefined();
    expect(cipher.open({ keyId: sealed.keyId, data: sealed.data.subarray(0, 20) }, 'row-a')).toBe(
      undefined,
    );
  });

  it('seals with the first key, opens with the previous ones, and forgets retired keys', () => {
    const oldKey = key();
    const newKey = key();
    const sealedBefore = new SessionCipher([oldKey]).seal(SECRET, 'row');
    const rotated = new SessionCipher([newKey, oldKey]);
    expect(rotated.isCurrent(sealedBefore.keyId)).toBe(false);
    expect(rotated.open(sealedBefore, 'row')).toBe(SECRET);
    const resealed = rotated.seal(SECRET, 'row');
    expect(rotated.isCurrent(resealed.keyId)).toBe(true);
    expect(new SessionCipher([newKey]).open(resealed, 'row')).toBe(SECRET);
    expect(new SessionCipher([newKey]).open(sealedBefore, 'row')).toBeUndefined();
  });

  it('names keys without revealing them and needs at least one', () => {
    const k = randomBytes(32);
    expect(SessionCipher.keyIdOf(k)).toMatch(/^[0-9a-f]{16}$/);
    expect(SessionCipher.keyIdOf(k)).not.toContain(k.toString('hex').slice(0, 16));
    expect(() => new SessionCipher([])).toThrow(/at least one key/);
  });
});
