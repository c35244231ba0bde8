import { CertificateClient } from '@azure/keyvault-certificates';
import type { TokenCredential } from '@azure/identity';
import { Inject, Injectable } from '@nestjs/common';
import { KEY_VAULT_CREDENTIAL } from '../broker/broker.tokens';
import { TOKEN_BROKER_CONFIG, type TokenBrokerEnv } from '../config';
import { createHash, X509Certificate, type KeyObject } from 'node:crypto';
import { RetryableError } from '../broker/broker-error';
import { classifyKeyVaultError } from './upstream-errors';
import { parseKeyId, vaultOrigin } from './key-id';

/** Public face of a certificate's current version: what the assertion header and the signer need. */
export interface SigningCertificate {
  name: string;
  version: string;
  /** Key identifier of this version's key (`https://{vault}/keys/{name}/{version}`). */
  keyId: string;
  /** base64url SHA-1 of the DER (legacy `x5t`). */
  x5t: string;
  /** base64url SHA-256 of the DER (`x5t#S256`). */
  x5tS256: string;
  /** The certificate's public key: what Entra checks the assertion's signature with. */
  publicKey: KeyObject;
}

/** What the Key Vault clients read from the configuration. */
export type KeyVaultSettings = Pick<
  TokenBrokerEnv,
  'KEY_VAULT_URL' | 'KEY_VAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION'
>;

/**
 * Reads the certificate's latest version on every cold path, so a rotated certificate (a new
 * version) is used from the next token request on, without a restart.
 */
@Injectable()
export class CertificateReader {
  private readonly client: CertificateClient;
  private readonly vault: string;

  constructor(
    @Inject(TOKEN_BROKER_CONFIG) c: KeyVaultSettings,
    @Inject(KEY_VAULT_CREDENTIAL) credential: TokenCredential,
  ) {
    this.vault = vaultOrigin(c.KEY_VAULT_URL);
    this.client = new CertificateClient(c.KEY_VAULT_URL, credential, {
      // DEV ONLY: accept a challenge whose resource is not the vault's own domain (a localhost vault).
      disableChallengeResourceVerification: c.KEY_VAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION,
      // Our own retry loop owns backoff (and counts it); the SDK's would double it.
      retryOptions: { maxRetries: 0 },
    });
  }

  async current(name: string): Promise<SigningCertificate> {
    let cert;
    try {
      cert = await this.client.getCertificate(name);
    } catch (e) {
      throw classifyKeyVaultError(e, `reading certificate ${name}`);
    }
    if (!cert.cer || !cert.keyId || !cert.properties.version)
      throw classifyKeyVaultError(new Error('incomplete'), `reading certificate ${name}`);
    // A certificate's key is its namesake of the same version, in the same vault: any other key
    // id (another vault's above all, where the sign request and its token would go) is refused.
    const key = parseKeyId(cert.keyId);
    if (
      !key ||
      key.origin !== this.vault ||
      key.name !== name.toLowerCase() ||
      key.version.toLowerCase() !== cert.properties.version.toLowerCase()
    )
      throw new RetryableError(
        `Key Vault: certificate ${name} names a key id other than this vault's key ${name}`,
        'unavailable',
      );
    const der = Buffer.from(cert.cer);
    let publicKey: KeyObject;
    try {
      publicKey = new X509Certificate(der).publicKey;
    } catch {
      throw classifyKeyVaultError(new Error('not a certificate'), `reading certificate ${name}`);
    }
    return {
      name,
      version: cert.properties.version,
      keyId: cert.keyId,
      x5t: createHash('sha1').update(der).digest('base64url'),
      x5tS256: createHash('sha256').update(der).digest('base64url'),
      publicKey,
    };
  }
}
