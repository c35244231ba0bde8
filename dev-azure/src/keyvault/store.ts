// Vault state: certificates, their keys (with private key material) and the
// pending operation of the latest issuance, persisted as one JSON file in the data dir. Writes are
// serialized and atomic (temp file + rename) with mode 0600 because the file
// holds private keys.
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyType } from './crypto';

export interface KeyAttributesState {
  enabled: boolean;
  created: number;
  updated: number;
  nbf?: number;
  exp?: number;
}

export interface KeyVersionState {
  version: string;
  kty: KeyType;
  keySize?: number;
  privateKeyPem: string;
  keyOps: string[];
  exportable: boolean;
  attributes: KeyAttributesState;
}

/** A certificate's key: one version per certificate version, same version id (Key Vault's `managed` key). */
export interface KeyState {
  name: string;
  /** Oldest first; the last one is the current version. */
  versions: KeyVersionState[];
}

/** Certificate policy in Key Vault's wire shape (snake_case), as stored and returned. */
export interface PolicyState {
  key_props: {
    exportable: boolean;
    kty: KeyType;
    key_size: number;
    reuse_key: boolean;
  };
  x509_props: {
    subject: string;
    ekus: string[];
    key_usage: string[];
    validity_months: number;
  };
  issuer: { name: string };
  attributes: { enabled: boolean; created: number; updated: number };
}

export interface CertificateVersionState {
  version: string;
  /** base64 DER of the certificate. */
  cer: string;
  attributes: { enabled: boolean; created: number; updated: number; nbf: number; exp: number };
}

/** The (completed) issuance of the latest version, as GET /pending reports it. */
export interface PendingOperationState {
  requestId: string;
  status: 'completed';
  csr: string;
}

export interface CertificateState {
  name: string;
  policy: PolicyState;
  versions: CertificateVersionState[];
  pending?: PendingOperationState;
}

export interface VaultState {
  formatVersion: 1;
  keys: Record<string, KeyState>;
  certificates: Record<string, CertificateState>;
}

export const STATE_FILE = 'keyvault-state.json';

export const newVersionId = (): string => randomUUID().replace(/-/g, '');
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export class VaultStore {
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: string,
    readonly state: VaultState,
  ) {}

  static async open(dataDir: string): Promise<VaultStore> {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const file = join(dataDir, STATE_FILE);
    let state: VaultState = { formatVersion: 1, keys: {}, certificates: {} };
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as VaultState;
      if (parsed.formatVersion !== 1)
        throw new Error(`unsupported Key Vault state format in ${file}`);
      state = parsed;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    return new VaultStore(file, state);
  }

  /** Persists the current state; resolves once this snapshot is on disk. */
  save(): Promise<void> {
    const snapshot = JSON.stringify(this.state);
    const next = this.writing.then(async () => {
      const tmp = `${this.file}.${process.pid}.${newVersionId()}.tmp`;
      await writeFile(tmp, snapshot, { mode: 0o600 });
      await chmod(tmp, 0o600);
      await rename(tmp, this.file);
    });
    // Keep the queue alive after a failed write; the caller still sees the error.
    this.writing = next.catch(() => undefined);
    return next;
  }

  async flush(): Promise<void> {
    await this.writing;
  }

  key(name: string): KeyState | undefined {
    return lookup(this.state.keys, name);
  }

  certificate(name: string): CertificateState | undefined {
    return lookup(this.state.certificates, name);
  }

  putKey(key: KeyState): void {
    this.state.keys[canonical(key.name)] = key;
  }

  putCertificate(cert: CertificateState): void {
    this.state.certificates[canonical(cert.name)] = cert;
  }
}

// Key Vault object names are case-insensitive.
const canonical = (name: string): string => name.toLowerCase();

function lookup<T>(record: Record<string, T>, name: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(record, canonical(name))
    ? record[canonical(name)]
    : undefined;
}
