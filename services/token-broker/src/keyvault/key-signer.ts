import { CryptographyClient } from '@azure/keyvault-keys';
import { RetryableError } from '../broker/broker-error';
import type { TokenCredential } from '@azure/identity';
import { Inject, Injectable } from '@nestjs/common';
import { KEY_VAULT_CREDENTIAL } from '../broker/broker.tokens';
import { TOKEN_BROKER_CONFIG } from '../config';
import type { KeyVaultSettings } from './certificate-reader';
import { parseKeyId, sameKey, vaultOrigin } from './key-id';
import { classifyKeyVaultError } from './upstream-errors';

export type AssertionAlgorithm = 'PS256' | 'RS256';

/** Signs digests with a Key Vault key; the private key stays in the vault (HSM). */
export interface DigestSigner {
  sign(keyId: string, alg: AssertionAlgorithm, digest: Buffer): Promise<Buffer>;
}

@Injectable()
export class KeyVaultSigner implements DigestSigner {
  // One client per key version: each keeps its own (keep-alive) pipeline and token.
  private readonly clients = new Map<string, CryptographyClient>();
  private readonly vault: string;

  constructor(
    @Inject(KEY_VAULT_CREDENTIAL) private readonly credential: TokenCredential,
    @Inject(TOKEN_BROKER_CONFIG)
    private readonly c: Pick<
      KeyVaultSettings,
      'KEY_VAULT_URL' | 'KEY_VAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION'
    >,
  ) {
    this.vault = vaultOrigin(c.KEY_VAULT_URL);
  }

  async sign(keyId: string, alg: AssertionAlgorithm, digest: Buffer): Promise<Buffer> {
    // The key id came from a certificate response: never send a sign (and the broker's vault
    // token) to another origin than KEY_VAULT_URL.
    const asked = parseKeyId(keyId);
    if (!asked || asked.origin !== this.vault)
      throw new RetryableError('Key Vault named a key outside KEY_VAULT_URL', 'unavailable');
    let kid: unknown;
    let result: Uint8Array;
    try {
      const r = await this.client(keyId).sign(alg, digest, {
        // The SDK reports the key it was asked for as keyID; the vault's own answer is the body's kid.
        onResponse: (raw) => {
          kid = (raw.parsedBody as { kid?: unknown } | undefined)?.kid;
        },
      });
      result = r.result;
    } catch (e) {
      throw classifyKeyVaultError(e, 'signing the client assertion');
    }
    // A signature the vault says another key (or another vault's key) made is not this key's.
    const signedBy = parseKeyId(kid);
    if (!signedBy || !sameKey(signedBy, asked))
      throw new RetryableError(
        'Key Vault answered the sign with another key than the one asked for',
        'unavailable',
      );
    return Buffer.from(result);
  }

  private client(keyId: string): CryptographyClient {
    let c = this.clients.get(keyId);
    if (!c) {
      c = new CryptographyClient(keyId, this.credential, {
        disableChallengeResourceVerification:
          this.c.KEY_VAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION,
        retryOptions: { maxRetries: 0 },
      });
      // Old versions are only needed until the next rotation; keep the map small.
      if (this.clients.size > 16) this.clients.delete(this.clients.keys().next().value as string);
      this.clients.set(keyId, c);
    }
    return c;
  }
}
