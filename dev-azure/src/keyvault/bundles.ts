// Wire shapes Key Vault returns (key bundle, certificate bundle, secret
// bundle, pending certificate operation, list items), built from the state.
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
  tags?: Record<string, string>;
  managed?: true;
}

export interface KeyItem {
  kid: string;
  attributes: KeyAttributesWire;
  tags?: Record<string, string>;
  managed?: true;
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
  tags?: Record<string, string>;
}

export interface CertificateItem {
  id: string;
  x5t: string;
  attributes: CertificateAttributesWire;
  tags?: Record<string, string>;
}

export interface SecretBundle {
  value: string;
  contentType: string;
  id: string;
  kid: string;
  attributes: CertificateAttributesWire;
  managed: true;
  tags?: Record<string, string>;
}

export interface SecretItem {
  id: string;
  contentType: string;
  attributes: CertificateAttributesWire;
  managed: true;
  tags?: Record<string, string>;
}

export interface CertificateOperationWire {
  id: string;
  issuer: { name: string };
  csr?: string;
  cancellation_requested: boolean;
  status: string;
  status_details?: string;
  target?: string;
  request_id: string;
  error?: { code: string; message: string };
}

const withTags = <T extends object>(obj: T, tags: Record<string, string> | undefined): T =>
  tags && Object.keys(tags).length ? { ...obj, tags } : obj;

export const keyId = (base: string, name: string, version: string): string =>
  `${base}/keys/${name}/${version}`;

function keyAttributes(v: KeyVersionState): KeyAttributesWire {
  return { ...v.attributes, ...RECOVERY, exportable: v.exportable };
}

export function keyBundle(base: string, key: KeyState, v: KeyVersionState): KeyBundle {
  const bundle: KeyBundle = {
    key: {
      kid: keyId(base, key.name, v.version),
      ...publicJwkOf(v.privateKeyPem),
      key_ops: v.keyOps,
    },
    attributes: keyAttributes(v),
  };
  if (v.managed) bundle.managed = true;
  return withTags(bundle, v.tags);
}

export function keyItem(
  base: string,
  key: KeyState,
  v: KeyVersionState,
  withVersion: boolean,
): KeyItem {
  const item: KeyItem = {
    kid: withVersion ? keyId(base, key.name, v.version) : `${base}/keys/${key.name}`,
    attributes: keyAttributes(v),
  };
  if (v.managed) item.managed = true;
  return withTags(item, v.tags);
}

/** Key Vault's x5t: base64url SHA-1 of the certificate DER. */
export const x5tOf = (cerBase64: string): string =>
  createHash('sha1').update(Buffer.from(cerBase64, 'base64')).digest('base64url');

const certAttributes = (v: CertificateVersionState): CertificateAttributesWire => ({
  ...v.attributes,
  ...RECOVERY,
});

export function certificateBundle(
  base: string,
  cert: CertificateState,
  v: CertificateVersionState,
): CertificateBundle {
  return withTags(
    {
      id: `${base}/certificates/${cert.name}/${v.version}`,
      kid: keyId(base, cert.name, v.version),
      sid: `${base}/secrets/${cert.name}/${v.version}`,
      x5t: x5tOf(v.cer),
      cer: v.cer,
      attributes: certAttributes(v),
      policy: { id: `${base}/certificates/${cert.name}/policy`, ...cert.policy },
    },
    v.tags,
  );
}

export function policyBundle(base: string, cert: CertificateState): PolicyState & { id: string } {
  return { id: `${base}/certificates/${cert.name}/policy`, ...cert.policy };
}

export function certificateItem(
  base: string,
  cert: CertificateState,
  v: CertificateVersionState,
  withVersion: boolean,
): CertificateItem {
  const id = withVersion
    ? `${base}/certificates/${cert.name}/${v.version}`
    : `${base}/certificates/${cert.name}`;
  return withTags({ id, x5t: x5tOf(v.cer), attributes: certAttributes(v) }, v.tags);
}

export function secretBundle(
  base: string,
  cert: CertificateState,
  v: CertificateVersionState,
  value: string,
): SecretBundle {
  return withTags(
    {
      value,
      contentType: cert.policy.secret_props.contentType,
      id: `${base}/secrets/${cert.name}/${v.version}`,
      kid: keyId(base, cert.name, v.version),
      attributes: certAttributes(v),
      managed: true as const,
    },
    v.tags,
  );
}

export function secretItem(
  base: string,
  cert: CertificateState,
  v: CertificateVersionState,
  withVersion: boolean,
): SecretItem {
  const id = withVersion
    ? `${base}/secrets/${cert.name}/${v.version}`
    : `${base}/secrets/${cert.name}`;
  return withTags(
    {
      id,
      contentType: cert.policy.secret_props.contentType,
      attributes: certAttributes(v),
      managed: true as const,
    },
    v.tags,
  );
}

export function certificateOperation(
  base: string,
  cert: CertificateState,
): CertificateOperationWire | undefined {
  const p = cert.pending;
  if (!p) return undefined;
  const op: CertificateOperationWire = {
    id: `${base}/certificates/${cert.name}/pending`,
    issuer: { name: cert.policy.issuer.name },
    cancellation_requested: false,
    status: p.status,
    request_id: p.requestId,
  };
  if (p.csr) op.csr = p.csr;
  if (p.status === 'completed') op.target = `${base}/certificates/${cert.name}`;
  if (p.status === 'inProgress')
    op.status_details = 'Pending certificate created. Certificate request is in progress.';
  if (p.error) op.error = p.error;
  return op;
}
