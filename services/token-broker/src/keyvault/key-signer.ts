import { CryptographyClient } from '@azure/keyvault-keys';
import type { TokenCredential } from '@azure/identity';
import { Inject, Injectable } from '@nestjs/common';
import { KEY_VAULT_CREDENTIAL } from '../broker/broker.tokens';
import { TOKEN_BROKER_CONFIG } from '../config';
import type { KeyVaultSettings } from './certificate-reader';
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

  constructor(
    @Inject(KEY_VAULT_CREDENTIAL) private readonly credential: TokenCredential,
    @Inject(TOKEN_BROKER_CONFIG)
    private readonly c: Pick<KeyVaultSettings, 'KEY_VAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION'>,
  ) {}

  async sign(keyId: string, alg: AssertionAlgorithm, digest: Buffer): Promise<Buffer> {
    try {
      const r = await this.client(keyId).sign(alg, digest);
      return Buffer.from(r.result);
    } catch (e) {
      throw classifyKeyVaultError(e, 'signing the client assertion');
    }
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
