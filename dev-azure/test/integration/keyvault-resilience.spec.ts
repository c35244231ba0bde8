// Key Vault stand-in: throttling (429 + Retry-After, retried by the SDK),
// persistence across restarts, and why disableChallengeResourceVerification
// is needed (and so must stay a development-only setting).
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys';
import { createHash, createPublicKey, verify as nodeVerify, constants } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  API,
  credentialFor,
  devClientOptions,
  newClient,
  rawRequest,
  startVaultFixture,
  type VaultFixture,
} from '../support/keyvault-harness';

describe('Key Vault stand-in: throttling, persistence, challenge verification', () => {
  const signer = newClient();
  let fx: VaultFixture;

  beforeAll(async () => {
    fx = await startVaultFixture(
      [signer],
      [{ principalId: signer.clientId, role: 'Key Vault Crypto User' }],
      {
        seedCertificates: [{ name: 'broker-signing', subject: 'CN=token-broker' }],
      },
    );
  });

  afterAll(async () => {
    await fx?.close();
  });

  it('throttles with 429 Throttled + Retry-After, and the SDK retries until it succeeds', async () => {
    const credential = credentialFor(fx.issuer, signer);
    const key = await new KeyClient(fx.vault.url, credential, devClientOptions).getKey(
      'broker-signing',
    );
    const client = new CryptographyClient(key.id!, credential, devClientOptions);
    const message = Buffer.from('throttled assertion');
    const digest = createHash('sha256').update(message).digest();
    await client.sign('PS256', digest); // challenge and key fetch done before throttling starts

    fx.vault.setRateLimit(1);
    const token = await fx.issuer.mint(signer);
    const responses = [];
    for (let i = 0; i < 3; i++)
      responses.push(await rawRequest(`${fx.vault.url}/keys/broker-signing?${API}`, { token }));
    const throttled = responses.find((r) => r.status === 429);
    expect(throttled).toBeDefined();
    expect(Number(throttled!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(throttled!.body).toEqual({
      error: { code: 'Throttled', message: expect.stringContaining('too many requests') },
    });

    fx.vault.setRateLimit(2);
    const before = fx.vault.stats();
    const publicKey = createPublicKey({
      key: {
        kty: 'RSA',
        n: Buffer.from(key.key!.n!).toString('base64url'),
        e: Buffer.from(key.key!.e!).toString('base64url'),
      },
      format: 'jwk',
    });
    for (let i = 0; i < 5; i++) {
      const { result } = await client.sign('PS256', digest);
      expect(
        nodeVerify(
          'sha256',
          message,
          { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
          result,
        ),
      ).toBe(true);
    }
    const after = fx.vault.stats();
    expect(after.signCount - before.signCount).toBe(5);
    expect(after.throttledCount).toBeGreaterThan(before.throttledCount);
    expect(after.requestCount - before.requestCount).toBe(
      5 + (after.throttledCount - before.throttledCount),
    );
    fx.vault.setRateLimit(undefined);
  }, 60_000);

  it('keeps keys and certificates across a restart: the public key fetched before verifies a signature made after', async () => {
    const credential = credentialFor(fx.issuer, signer);
    const keyBefore = await new KeyClient(fx.vault.url, credential, devClientOptions).getKey(
      'broker-signing',
    );
    const publicKey = createPublicKey({
      key: {
        kty: 'RSA',
        n: Buffer.from(keyBefore.key!.n!).toString('base64url'),
        e: Buffer.from(keyBefore.key!.e!).toString('base64url'),
      },
      format: 'jwk',
    });
    const port = new URL(fx.vault.url).port;

    // Same port, so the kid stays valid, as a real vault's would.
    await fx.restart({ port: Number(port) });
    expect(fx.vault.url).toBe(`https://localhost:${port}`);

    const keyAfter = await new KeyClient(fx.vault.url, credential, devClientOptions).getKey(
      'broker-signing',
    );
    expect(keyAfter.id).toBe(keyBefore.id);
    const message = Buffer.from('signed after restart');
    const { result } = await new CryptographyClient(
      keyBefore.id!,
      credential,
      devClientOptions,
    ).sign('RS256', createHash('sha256').update(message).digest());
    expect(nodeVerify('sha256', message, publicKey, result)).toBe(true);

    const file = join(fx.dataDir, 'keyvault-state.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const state = JSON.parse(await readFile(file, 'utf8')) as {
      keys: Record<string, { versions: unknown[] }>;
    };
    // The seed is not issued again on restart.
    expect(state.keys['broker-signing']?.versions).toHaveLength(1);
  });

  it('is refused by the SDK without disableChallengeResourceVerification (localhost is not *.vault.azure.net)', async () => {
    const requestsBefore = fx.issuer.tokenRequests;
    const strict = new KeyClient(fx.vault.url, credentialFor(fx.issuer, signer));
    await expect(strict.getKey('broker-signing')).rejects.toThrow(
      /The challenge resource 'vault.azure.net' does not match the requested domain/,
    );
    // Refused before any token was requested for the vault.
    expect(fx.issuer.tokenRequests).toBe(requestsBefore);
  });
});
