// X.509 side of Key Vault certificates: self-signed issuance from a policy,
// import of PEM / PFX material, and the export formats of the secret face.
// @peculiar/x509 (through tsyringe) needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import {
  createPrivateKey,
  createPublicKey,
  randomBytes,
  webcrypto,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { badParameter } from './errors';
import { buildPfx, parsePfx } from './pfx';
import type { PolicyState } from './store';

const KEY_USAGE_FLAGS: Record<string, x509.KeyUsageFlags> = {
  digitalSignature: x509.KeyUsageFlags.digitalSignature,
  nonRepudiation: x509.KeyUsageFlags.nonRepudiation,
  keyEncipherment: x509.KeyUsageFlags.keyEncipherment,
  dataEncipherment: x509.KeyUsageFlags.dataEncipherment,
  keyAgreement: x509.KeyUsageFlags.keyAgreement,
  keyCertSign: x509.KeyUsageFlags.keyCertSign,
  cRLSign: x509.KeyUsageFlags.cRLSign,
  encipherOnly: x509.KeyUsageFlags.encipherOnly,
  decipherOnly: x509.KeyUsageFlags.decipherOnly,
};
export const KEY_USAGES = Object.keys(KEY_USAGE_FLAGS);

type SelfSignedParams = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0];
type X509Crypto = NonNullable<Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1]>;
type KeyPair = SelfSignedParams['keys'];
type SigningAlgorithm = NonNullable<SelfSignedParams['signingAlgorithm']>;

// Passed explicitly so the process-wide @peculiar/x509 provider stays untouched.
const subtleCrypto = webcrypto as unknown as X509Crypto;

export interface IssuedCertificate {
  der: Buffer;
  csrDer: Buffer;
}

function importAlgorithms(key: KeyObject): {
  importAlg: webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams;
  signAlg: SigningAlgorithm;
} {
  if (key.asymmetricKeyType === 'rsa') {
    const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    return { importAlg: alg, signAlg: alg };
  }
  return {
    importAlg: { name: 'ECDSA', namedCurve: 'P-256' },
    signAlg: { name: 'ECDSA', hash: 'SHA-256' } as SigningAlgorithm,
  };
}

async function webKeyPair(
  privateKeyPem: string,
): Promise<{ keys: KeyPair; signAlg: SigningAlgorithm }> {
  const priv = createPrivateKey(privateKeyPem);
  const { importAlg, signAlg } = importAlgorithms(priv);
  const privateKey = await webcrypto.subtle.importKey(
    'pkcs8',
    priv.export({ format: 'der', type: 'pkcs8' }),
    importAlg,
    true,
    ['sign'],
  );
  const publicKey = await webcrypto.subtle.importKey(
    'spki',
    createPublicKey(priv).export({ format: 'der', type: 'spki' }),
    importAlg,
    true,
    ['verify'],
  );
  return { keys: { privateKey, publicKey } as unknown as KeyPair, signAlg };
}

function addMonths(date: Date, months: number): Date {
  const d = new Date(date.getTime());
  d.setUTCMonth(d.getUTCMonth() + months);
  return d;
}

/** Self-signed certificate (Key Vault issuer 'Self') for the policy, plus the CSR a pending operation reports. */
export async function issueSelfSigned(
  privateKeyPem: string,
  policy: PolicyState,
): Promise<IssuedCertificate> {
  const { keys, signAlg } = await webKeyPair(privateKeyPem);
  const props = policy.x509_props;
  let name: x509.Name;
  try {
    name = new x509.Name(props.subject);
  } catch {
    throw badParameter(`Invalid subject name '${props.subject}'.`);
  }
  const usages = (props.key_usage ?? []).reduce((acc, u) => acc | (KEY_USAGE_FLAGS[u] ?? 0), 0);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, false),
  ];
  if (usages) extensions.push(new x509.KeyUsagesExtension(usages, true));
  if (props.ekus?.length) extensions.push(new x509.ExtendedKeyUsageExtension(props.ekus, false));
  const sans = [
    ...(props.sans?.dns_names ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(props.sans?.emails ?? []).map((value) => ({ type: 'email' as const, value })),
    ...(props.sans?.upns ?? []).map((value) => ({ type: 'upn' as const, value })),
  ];
  if (sans.length) extensions.push(new x509.SubjectAlternativeNameExtension(sans, false));
  extensions.push(
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, subtleCrypto),
  );

  // Whole seconds so that the attributes (Unix seconds) match the certificate exactly.
  const notBefore = new Date(Math.floor(Date.now() / 1000) * 1000);
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial.toString('hex'),
      name,
      notBefore,
      notAfter: addMonths(notBefore, props.validity_months),
      keys,
      signingAlgorithm: signAlg,
      extensions,
    },
    subtleCrypto,
  );
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    { name, keys, signingAlgorithm: signAlg, extensions },
    subtleCrypto,
  );
  return { der: Buffer.from(cert.rawData), csrDer: Buffer.from(csr.rawData) };
}

export interface ImportedMaterial {
  leafDer: Buffer;
  chainDers: Buffer[];
  privateKeyPem: string;
  contentType: 'application/x-pem-file' | 'application/x-pkcs12';
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

function parsePem(text: string): { certificates: Buffer[]; privateKeys: KeyObject[] } {
  const certificates: Buffer[] = [];
  const privateKeys: KeyObject[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    const label = m[1];
    if (label === 'CERTIFICATE') certificates.push(Buffer.from(m[2].replace(/\s+/g, ''), 'base64'));
    else if (label.endsWith('PRIVATE KEY')) {
      if (label === 'ENCRYPTED PRIVATE KEY')
        throw badParameter(
          'Encrypted PEM private keys are not supported; import a PFX with a password instead.',
        );
      try {
        privateKeys.push(createPrivateKey(m[0]));
      } catch {
        throw badParameter('The private key in the PEM content could not be read.');
      }
    }
  }
  return { certificates, privateKeys };
}

const spkiOf = (key: KeyObject): Buffer =>
  createPublicKey(key).export({ format: 'der', type: 'spki' });

/** Certificate + key from the `value` of an import request (PEM text, base64 PEM or base64 PFX). */
export function parseImport(value: string, password: string | undefined): ImportedMaterial {
  let certificates: Buffer[];
  let privateKeys: KeyObject[];
  let contentType: ImportedMaterial['contentType'];
  const decoded = value.includes('-----BEGIN')
    ? value
    : Buffer.from(value, 'base64').toString('latin1');
  if (decoded.includes('-----BEGIN')) {
    ({ certificates, privateKeys } = parsePem(decoded));
    contentType = 'application/x-pem-file';
  } else {
    if (!/^[A-Za-z0-9+/=\s]+$/.test(value))
      throw badParameter('The certificate value must be base64-encoded PFX or PEM content.');
    const pfx = parsePfx(Buffer.from(value, 'base64'), password);
    certificates = pfx.certificates;
    privateKeys = pfx.privateKeys.map((der) => {
      try {
        return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
      } catch {
        throw badParameter('The private key in the PFX could not be read.');
      }
    });
    contentType = 'application/x-pkcs12';
  }
  if (privateKeys.length !== 1)
    throw badParameter(
      'Private key is not specified in the specified X.509 PEM certificate content, or more than one key was given.',
    );
  if (certificates.length === 0)
    throw badParameter('No certificate was found in the specified content.');
  const keySpki = spkiOf(privateKeys[0]);
  const parsed = certificates.map((der) => {
    try {
      return { der, cert: new X509Certificate(der) };
    } catch {
      throw badParameter('A certificate in the specified content could not be parsed.');
    }
  });
  const leaf = parsed.find((c) =>
    c.cert.publicKey.export({ format: 'der', type: 'spki' }).equals(keySpki),
  );
  if (!leaf)
    throw badParameter(
      'The private key does not match the public key of any certificate in the specified content.',
    );
  return {
    leafDer: leaf.der,
    chainDers: parsed.filter((c) => c !== leaf).map((c) => c.der),
    privateKeyPem: privateKeys[0].export({ format: 'pem', type: 'pkcs8' }).toString(),
    contentType,
  };
}

export interface CertificateFacts {
  nbf: number;
  exp: number;
  /** RFC 4514-ish subject, e.g. 'CN=policy-daemon, O=Contoso'. */
  subject: string;
}

export function certificateFacts(der: Buffer): CertificateFacts {
  const cert = new X509Certificate(der);
  return {
    nbf: Math.floor(new Date(cert.validFrom).getTime() / 1000),
    exp: Math.floor(new Date(cert.validTo).getTime() / 1000),
    subject: cert.subject.split('\n').join(', '),
  };
}

const pemOf = (label: string, der: Buffer): string =>
  `-----BEGIN ${label}-----\n${der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')}\n-----END ${label}-----\n`;

/** The value of a certificate's secret face, in the policy's content type. */
export function exportSecretValue(
  contentType: PolicyState['secret_props']['contentType'],
  privateKeyPem: string,
  leafDer: Buffer,
  chainDers: Buffer[],
): string {
  const pkcs8 = createPrivateKey(privateKeyPem).export({ format: 'der', type: 'pkcs8' });
  if (contentType === 'application/x-pem-file') {
    return (
      pemOf('PRIVATE KEY', pkcs8) +
      [leafDer, ...chainDers].map((d) => pemOf('CERTIFICATE', d)).join('')
    );
  }
  return buildPfx([leafDer, ...chainDers], pkcs8).toString('base64');
}
