// Wire shapes Key Vault returns (key bundle, certificate bundle, pending certificate
// operation), built from the state.
import { createHash } from 'node:crypto';
import { publicJwkOf, type PublicJwk } from './crypto';
import type {
  CertificateState,
  CertificateVersionState,
  KeyAttributesState,
  KeyState,
  KeyVersionState,
  PolicyState,
} from './store';

const RECOVERY = { recoveryLevel: 'Recoverable+Purgeable', recoverableDays: 90 } as const;

export interface KeyAttributesWire extends KeyAttributesState {
  recoveryLevel: string;
  recoverableDays: number;
  exportable: boolean;
}

export interface KeyBundle {
  key: PublicJwk & { kid: string; key_ops: string[] };
  attributes: KeyAttributesWire;
  /** Every key here backs a certificate. */
  managed: true;
}

export interface CertificateAttributesWire {
  enabled: boolean;
  nbf: number;
  exp: number;
  created: number;
  updated: number;
  recoveryLevel: string;
  recoverableDays: number;
}

export interface CertificateBundle {
  id: string;
  kid: string;
  sid: string;
  x5t: string;
  cer: string;
  attributes: CertificateAttributesWire;
  policy: PolicyState & { id: string };
}

export interface CertificateOperationWire {
  id: string;
  issuer: { name: string };
  csr: string;
  cancellation_requested: boolean;
  status: string;
  target?: string;
  request_id: string;
}

export const keyId = (base: string, name: string, version: string): string =>
  `${base}/keys/${name}/${version}`;

export function keyBundle(base: string, key: KeyState, v: KeyVersionState): KeyBundle {
  return {
    key: {
      kid: keyId(base, key.name, v.version),
      ...publicJwkOf(v.privateKeyPem),
      key_ops: v.keyOps,
    },
    attributes: { ...v.attributes, ...RECOVERY, exportable: v.exportable },
    managed: true,
  };
}

/** Key Vault's x5t: base64url SHA-1 of the certificate DER. */
export const x5tOf = (cerBase64: string): string =>
  createHash('sha1').update(Buffer.from(cerBase64, 'base64')).digest('base64url');

export function certificateBundle(
  base: string,
  cert: CertificateState,
  v: CertificateVersionState,
): CertificateBundle {
  return {
    id: `${base}/certificates/${cert.name}/${v.version}`,
    kid: keyId(base, cert.name, v.version),
    // Azure names the secret face too; this vault does not serve it (keys never leave it).
    sid: `${base}/secrets/${cert.name}/${v.version}`,
    x5t: x5tOf(v.cer),
    cer: v.cer,
    attributes: { ...v.attributes, ...RECOVERY },
    policy: { id: `${base}/certificates/${cert.name}/policy`, ...cert.policy },
  };
}

export function certificateOperation(
  base: string,
  cert: CertificateState,
): CertificateOperationWire | undefined {
  const p = cert.pending;
  if (!p) return undefined;
  return {
    id: `${base}/certificates/${cert.name}/pending`,
    issuer: { name: cert.policy.issuer.name },
    csr: p.csr,
    cancellation_requested: false,
    status: p.status,
    target: `${base}/certificates/${cert.name}`,
    request_id: p.requestId,
  };
}
