// The vault's operations over its state, independent of HTTP: one
// certificate = a certificate object, a managed key and a managed secret,
// all sharing name and version (Key Vault's three faces).
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { certificateFacts, exportSecretValue, issueSelfSigned, parseImport } from './certificates';
import {
  algorithmFitsKey,
  describePrivateKey,
  generatePrivateKeyPem,
  signDigest,
  verifyDigest,
  type SignAlgorithm,
} from './crypto';
import {
  certificateNotFound,
  forbiddenByPolicy,
  KvError,
  keyNotFound,
  secretNotFound,
} from './errors';
import { assertSelfIssued, mergePolicy, monthsBetween } from './policy';
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

const NAME = /^[0-9a-zA-Z-]{1,127}$/;
const VERSION = /^[0-9a-fA-F]{32}$/;

export function assertName(name: string, kind: 'key' | 'certificate' | 'secret'): void {
  if (!NAME.test(name)) {
    throw new KvError(
      400,
      'BadParameter',
      `The ${kind} name '${name.slice(0, 130)}' is invalid: it must be 1-127 characters of 0-9, a-z, A-Z and '-'.`,
    );
  }
}

function pickVersion<T extends { version: string }>(
  versions: T[],
  version: string | undefined,
): T | undefined {
  if (!version) return versions[versions.length - 1];
  if (!VERSION.test(version)) return undefined;
  return versions.find((v) => v.version.toLowerCase() === version.toLowerCase());
}

const SIGNING_USAGES = ['digitalSignature', 'nonRepudiation'];

export interface CreateKeyInput {
  kty: 'RSA' | 'EC';
  keySize?: number;
  curve?: 'P-256';
  keyOps?: string[];
  enabled?: boolean;
  nbf?: number;
  exp?: number;
  exportable?: boolean;
  tags?: Record<string, string>;
}

export interface CertificateInput {
  policy?: PolicyBody;
  enabled?: boolean;
  tags?: Record<string, string>;
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

  // ---- keys ----

  key(name: string, version?: string): { key: KeyState; version: KeyVersionState } {
    const key = this.store.key(name);
    const v = key && pickVersion(key.versions, version);
    if (!key || !v) throw keyNotFound(name, version);
    return { key, version: v };
  }

  keys(): KeyState[] {
    return Object.values(this.store.state.keys);
  }

  createKey(
    name: string,
    input: CreateKeyInput,
  ): Promise<{ key: KeyState; version: KeyVersionState }> {
    assertName(name, 'key');
    return this.exclusive(() => this.createKeyNow(name, input));
  }

  private async createKeyNow(
    name: string,
    input: CreateKeyInput,
  ): Promise<{ key: KeyState; version: KeyVersionState }> {
    const existing = this.store.key(name);
    if (existing?.versions.some((v) => v.managed)) {
      throw new KvError(
        409,
        'Conflict',
        `Key ${name} is managed by a certificate; create a new certificate version instead.`,
      );
    }
    const privateKeyPem = generatePrivateKeyPem(input.kty, {
      keySize: input.keySize,
      curve: input.curve,
    });
    const now = nowSeconds();
    const version: KeyVersionState = {
      version: newVersionId(),
      kty: input.kty,
      ...describeForState(privateKeyPem),
      privateKeyPem,
      keyOps: input.keyOps ?? ['sign', 'verify'],
      exportable: input.exportable ?? false,
      managed: false,
      attributes: {
        enabled: input.enabled ?? true,
        created: now,
        updated: now,
        ...(input.nbf ? { nbf: input.nbf } : {}),
        ...(input.exp ? { exp: input.exp } : {}),
      },
      ...(input.tags ? { tags: input.tags } : {}),
    };
    const key: KeyState = existing ?? { name, versions: [] };
    key.versions.push(version);
    this.store.putKey(key);
    await this.store.save();
    return { key, version };
  }

  sign(
    name: string,
    version: string | undefined,
    alg: SignAlgorithm,
    digest: Buffer,
  ): { key: KeyState; version: KeyVersionState; signature: Buffer } {
    const found = this.key(name, version);
    this.assertUsable(found.version, 'sign', alg);
    const signature = signDigest(found.version.privateKeyPem, alg, digest);
    this.signCount++;
    return { ...found, signature };
  }

  verify(
    name: string,
    version: string | undefined,
    alg: SignAlgorithm,
    digest: Buffer,
    signature: Buffer,
  ): boolean {
    const found = this.key(name, version);
    this.assertUsable(found.version, 'verify', alg);
    return verifyDigest(found.version.privateKeyPem, alg, digest, signature);
  }

  private assertUsable(v: KeyVersionState, op: 'sign' | 'verify', alg: SignAlgorithm): void {
    const now = nowSeconds();
    if (!v.attributes.enabled)
      throw new KvError(403, 'Forbidden', `Operation ${op} is not allowed on a disabled key.`);
    if (
      (v.attributes.nbf && now < v.attributes.nbf) ||
      (v.attributes.exp && now > v.attributes.exp)
    ) {
      throw new KvError(
        403,
        'Forbidden',
        `Operation ${op} is not allowed: the key is not yet valid or has expired.`,
      );
    }
    if (!v.keyOps.includes(op))
      throw new KvError(403, 'Forbidden', `Operation ${op} is not permitted on this key.`);
    if (!algorithmFitsKey(alg, v.kty))
      throw new KvError(
        400,
        'BadParameter',
        `Algorithm ${alg} is not valid for a key of type ${v.kty}.`,
      );
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

  certificates(): CertificateState[] {
    return Object.values(this.store.state.certificates).filter((c) => c.versions.length > 0);
  }

  /** Self-signed issuance; the pending operation is completed before this returns. */
  createCertificate(name: string, input: CertificateInput): Promise<CertificateState> {
    assertName(name, 'certificate');
    return this.exclusive(() => this.createCertificateNow(name, input));
  }

  private async createCertificateNow(
    name: string,
    input: CertificateInput,
  ): Promise<CertificateState> {
    this.assertNoStandaloneKey(name);
    const existing = this.store.certificate(name);
    const policy = mergePolicy(input.policy, existing?.policy, { defaultIssuer: 'Self' });
    assertSelfIssued(policy);
    const kp = policy.key_props;
    const previousKey = this.store.key(name)?.versions.at(-1);
    const privateKeyPem =
      kp.reuse_key && previousKey && previousKey.kty === kp.kty
        ? previousKey.privateKeyPem
        : generatePrivateKeyPem(kp.kty, { keySize: kp.key_size, curve: kp.crv });
    const issued = await issueSelfSigned(privateKeyPem, policy);
    const canSign = (policy.x509_props.key_usage ?? []).some((u) => SIGNING_USAGES.includes(u));
    const cert = this.addCertificateVersion(
      name,
      existing,
      policy,
      issued.der,
      [],
      privateKeyPem,
      canSign ? ['sign', 'verify'] : [],
      input,
    );
    cert.pending = {
      requestId: newVersionId(),
      status: 'completed',
      csr: issued.csrDer.toString('base64'),
    };
    await this.store.save();
    return cert;
  }

  importCertificate(
    name: string,
    value: string,
    password: string | undefined,
    input: CertificateInput,
  ): Promise<CertificateState> {
    assertName(name, 'certificate');
    return this.exclusive(() => this.importCertificateNow(name, value, password, input));
  }

  private async importCertificateNow(
    name: string,
    value: string,
    password: string | undefined,
    input: CertificateInput,
  ): Promise<CertificateState> {
    this.assertNoStandaloneKey(name);
    const material = parseImport(value, password);
    const existing = this.store.certificate(name);
    const facts = certificateFacts(material.leafDer);
    const keyInfo = describePrivateKey(createPrivateKey(material.privateKeyPem));
    const body: PolicyBody = {
      ...input.policy,
      key_props: {
        ...input.policy?.key_props,
        kty: keyInfo.kty,
        key_size: keyInfo.keySize,
        crv: keyInfo.curve,
      },
      secret_props: {
        contentType: input.policy?.secret_props?.contentType ?? material.contentType,
      },
      x509_props: {
        ...input.policy?.x509_props,
        subject: facts.subject,
        validity_months: monthsBetween(facts.nbf, facts.exp),
      },
    };
    const policy = mergePolicy(body, existing?.policy, {
      defaultIssuer: 'Unknown',
      defaultSubject: facts.subject,
    });
    const cert = this.addCertificateVersion(
      name,
      existing,
      policy,
      material.leafDer,
      material.chainDers,
      material.privateKeyPem,
      ['sign', 'verify'],
      input,
    );
    delete cert.pending;
    await this.store.save();
    return cert;
  }

  private assertNoStandaloneKey(name: string): void {
    if (this.store.key(name)?.versions.some((v) => !v.managed)) {
      throw new KvError(
        409,
        'Conflict',
        `A key named ${name} already exists and is not managed by a certificate.`,
      );
    }
  }

  private addCertificateVersion(
    name: string,
    existing: CertificateState | undefined,
    policy: CertificateState['policy'],
    leafDer: Buffer,
    chainDers: Buffer[],
    privateKeyPem: string,
    keyOps: string[],
    input: CertificateInput,
  ): CertificateState {
    const facts = certificateFacts(leafDer);
    const now = nowSeconds();
    const versionId = newVersionId();
    const enabled = input.enabled ?? true;
    const certVersion: CertificateVersionState = {
      version: versionId,
      cer: leafDer.toString('base64'),
      attributes: { enabled, created: now, updated: now, nbf: facts.nbf, exp: facts.exp },
      ...(chainDers.length ? { chain: chainDers.map((d) => d.toString('base64')) } : {}),
      ...(input.tags ? { tags: input.tags } : {}),
    };
    const cert: CertificateState = existing ?? { name, policy, versions: [] };
    cert.policy = policy;
    cert.versions.push(certVersion);
    this.store.putCertificate(cert);

    const keyVersion: KeyVersionState = {
      version: versionId,
      kty: policy.key_props.kty,
      ...describeForState(privateKeyPem),
      privateKeyPem,
      keyOps,
      exportable: policy.key_props.exportable,
      managed: true,
      attributes: { enabled, created: now, updated: now, nbf: facts.nbf, exp: facts.exp },
      ...(input.tags ? { tags: input.tags } : {}),
    };
    const key: KeyState = this.store.key(name) ?? { name: cert.name, versions: [] };
    key.versions.push(keyVersion);
    this.store.putKey(key);
    return cert;
  }

  async seed(seeds: readonly SeedCertificate[]): Promise<void> {
    for (const s of seeds) {
      if (this.store.certificate(s.name)) continue;
      const kty = s.keyType ?? 'RSA';
      await this.createCertificate(s.name, {
        policy: {
          key_props: {
            exportable: s.exportable ?? false,
            kty,
            ...(kty === 'RSA' ? { key_size: s.keySize ?? 2048 } : { crv: s.curve ?? 'P-256' }),
            reuse_key: false,
          },
          x509_props: { subject: s.subject },
          issuer: { name: 'Self' },
        },
      });
    }
  }

  // ---- secrets (the exportable face of certificates) ----

  /** The certificate and key material behind a secret, refusing keys that may not leave the vault. */
  secret(
    name: string,
    version?: string,
  ): { cert: CertificateState; version: CertificateVersionState; value: string } {
    const cert = this.store.certificate(name);
    const v = cert && pickVersion(cert.versions, version);
    if (!cert || !v) throw secretNotFound(name, version);
    const keyVersion = this.store.key(name)?.versions.find((k) => k.version === v.version);
    if (!keyVersion) throw secretNotFound(name, version);
    if (!keyVersion.exportable) {
      throw forbiddenByPolicy(
        `The private key of certificate ${cert.name} is not exportable (policy key_props.exportable is false); use the keys interface to sign with it.`,
      );
    }
    const chain = (v.chain ?? []).map((c) => Buffer.from(c, 'base64'));
    const value = exportSecretValue(
      cert.policy.secret_props.contentType,
      keyVersion.privateKeyPem,
      Buffer.from(v.cer, 'base64'),
      chain,
    );
    return { cert, version: v, value };
  }

  async flush(): Promise<void> {
    await this.store.flush();
  }
}

function describeForState(privateKeyPem: string): Pick<KeyVersionState, 'curve' | 'keySize'> {
  const d = describePrivateKey(createPrivateKey(privateKeyPem));
  return d.kty === 'RSA' ? { keySize: d.keySize } : { curve: d.curve };
}
