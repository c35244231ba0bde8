// The vault's operations over its state, independent of HTTP: one certificate = a
// certificate object and its (managed, non-exportable here) key, sharing name and version.
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { issueSelfSigned, validityOf } from './certificates';
import { generatePrivateKeyPem, signDigest, type SignAlgorithm } from './crypto';
import { shown } from '../util/text';
import { certificateNotFound, KvError, keyNotFound } from './errors';
import { mergePolicy } from './policy';
import type { PolicyBody } from './schemas';
import {
  newVersionId,
  nowSeconds,
  type CertificateState,
  type CertificateVersionState,
  type KeyState,
  type KeyVersionState,
  type VaultStore,
} from './store';
import type { PublicCertificate, SeedCertificate } from './options';

/** Key Vault object names: 1-127 characters of 0-9, a-z, A-Z and '-'. */
export const OBJECT_NAME = /^[0-9a-zA-Z-]{1,127}$/;
const VERSION = /^[0-9a-fA-F]{32}$/;

export function assertName(name: string, kind: 'key' | 'certificate'): void {
  if (!OBJECT_NAME.test(name)) {
    throw new KvError(
      400,
      'BadParameter',
      `The ${kind} name '${shown(name)}' is invalid: it must be 1-127 characters of 0-9, a-z, A-Z and '-'.`,
    );
  }
}

function pickVersion<T extends { version: string }>(
  versions: T[],
  version: string | undefined,
): T | undefined {
  if (!version) return versions.at(-1);
  if (!VERSION.test(version)) return undefined;
  return versions.find((v) => v.version.toLowerCase() === version.toLowerCase());
}

const SIGNING_USAGES = ['digitalSignature', 'nonRepudiation'];

export interface CertificateInput {
  policy?: PolicyBody;
  enabled?: boolean;
}

export class Vault {
  signCount = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly store: VaultStore) {}

  /** Runs state changes one at a time: issuance awaits, and versions must not interleave. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  // ---- keys (the key face of certificates) ----

  key(name: string, version?: string): { key: KeyState; version: KeyVersionState } {
    const key = this.store.key(name);
    const v = key && pickVersion(key.versions, version);
    if (!key || !v) throw keyNotFound(name, version);
    return { key, version: v };
  }

  sign(
    name: string,
    version: string | undefined,
    alg: SignAlgorithm,
    digest: Buffer,
  ): { key: KeyState; version: KeyVersionState; signature: Buffer } {
    const found = this.key(name, version);
    const v = found.version;
    const now = nowSeconds();
    if (!v.attributes.enabled)
      throw new KvError(
        403,
        'Forbidden',
        'Operation sign is not allowed on a disabled key.',
        'KeyDisabled',
      );
    if (
      (v.attributes.nbf && now < v.attributes.nbf) ||
      (v.attributes.exp && now > v.attributes.exp)
    )
      throw new KvError(
        403,
        'Forbidden',
        'Operation sign is not allowed: the key is not yet valid or has expired.',
      );
    if (!v.keyOps.includes('sign'))
      throw new KvError(403, 'Forbidden', 'Operation sign is not permitted on this key.');
    const signature = signDigest(v.privateKeyPem, alg, digest);
    this.signCount++;
    return { ...found, signature };
  }

  // ---- certificates ----

  certificate(
    name: string,
    version?: string,
  ): { cert: CertificateState; version: CertificateVersionState } {
    const cert = this.store.certificate(name);
    const v = cert && pickVersion(cert.versions, version);
    if (!cert || !v) throw certificateNotFound(name, version);
    return { cert, version: v };
  }

  certificateState(name: string): CertificateState {
    const cert = this.store.certificate(name);
    if (!cert) throw certificateNotFound(name);
    return cert;
  }

  publicCertificate(name: string): PublicCertificate | undefined {
    const cert = this.store.certificate(name);
    const v = cert?.versions.at(-1);
    if (!cert || !v) return undefined;
    const der = Buffer.from(v.cer, 'base64');
    return {
      name: cert.name,
      version: v.version,
      der,
      pem: new X509Certificate(der).toString(),
      x5t: createHash('sha1').update(der).digest('base64url'),
      x5tS256: createHash('sha256').update(der).digest('base64url'),
    };
  }

  /** Self-signed issuance of a new version; the pending operation is completed before this returns. */
  createCertificate(name: string, input: CertificateInput): Promise<CertificateState> {
    assertName(name, 'certificate');
    return this.exclusive(() => this.createCertificateNow(name, input));
  }

  private async createCertificateNow(
    name: string,
    input: CertificateInput,
  ): Promise<CertificateState> {
    const existing = this.store.certificate(name);
    const policy = mergePolicy(input.policy, existing?.policy);
    const kp = policy.key_props;
    const previousKey = this.store.key(name)?.versions.at(-1);
    const privateKeyPem =
      kp.reuse_key && previousKey ? previousKey.privateKeyPem : generatePrivateKeyPem(kp.key_size);
    const issued = await issueSelfSigned(privateKeyPem, policy);
    const { nbf, exp } = validityOf(issued.der);
    const now = nowSeconds();
    const versionId = newVersionId();
    const enabled = input.enabled ?? true;

    const cert: CertificateState = existing ?? { name, policy, versions: [] };
    cert.policy = policy;
    cert.versions.push({
      version: versionId,
      cer: issued.der.toString('base64'),
      attributes: { enabled, created: now, updated: now, nbf, exp },
    });
    cert.pending = {
      requestId: newVersionId(),
      status: 'completed',
      csr: issued.csrDer.toString('base64'),
    };
    this.store.putCertificate(cert);

    const canSign = policy.x509_props.key_usage.some((u) => SIGNING_USAGES.includes(u));
    const key: KeyState = this.store.key(name) ?? { name: cert.name, versions: [] };
    key.versions.push({
      version: versionId,
      kty: 'RSA',
      keySize: createPrivateKey(privateKeyPem).asymmetricKeyDetails?.modulusLength,
      privateKeyPem,
      keyOps: canSign ? ['sign', 'verify'] : [],
      exportable: kp.exportable,
      attributes: { enabled, created: now, updated: now, nbf, exp },
    });
    this.store.putKey(key);
    await this.store.save();
    return cert;
  }

  async seed(seeds: readonly SeedCertificate[]): Promise<void> {
    for (const s of seeds) {
      if (this.store.certificate(s.name)) continue;
      await this.createCertificate(s.name, {
        policy: {
          key_props: {
            exportable: s.exportable ?? false,
            kty: 'RSA',
            key_size: s.keySize ?? 2048,
            reuse_key: false,
          },
          x509_props: { subject: s.subject },
          issuer: { name: 'Self' },
        },
      });
    }
  }

  async flush(): Promise<void> {
    await this.store.flush();
  }
}
