// X.509 side of Key Vault certificates: self-signed issuance from a policy (issuer 'Self',
// the only one a vault without a CA can complete).
// @peculiar/x509 (through tsyringe) needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import {
  createPrivateKey,
  createPublicKey,
  randomBytes,
  webcrypto,
  X509Certificate,
} from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { hasControlCharacter, shown } from '../util/text';
import { badParameter } from './errors';
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

const RSA_SHA256 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };

async function webKeyPair(
  privateKeyPem: string,
): Promise<{ keys: KeyPair; signAlg: SigningAlgorithm }> {
  const priv = createPrivateKey(privateKeyPem);
  const privateKey = await webcrypto.subtle.importKey(
    'pkcs8',
    priv.export({ format: 'der', type: 'pkcs8' }),
    RSA_SHA256,
    true,
    ['sign'],
  );
  const publicKey = await webcrypto.subtle.importKey(
    'spki',
    createPublicKey(priv).export({ format: 'der', type: 'spki' }),
    RSA_SHA256,
    true,
    ['verify'],
  );
  return { keys: { privateKey, publicKey } as unknown as KeyPair, signAlg: RSA_SHA256 };
}

function addMonths(date: Date, months: number): Date {
  const d = new Date(date.getTime());
  d.setUTCMonth(d.getUTCMonth() + months);
  return d;
}

/**
 * The policy's subject as a distinguished name, or 400 `Invalid subject name` (checked when the
 * policy is merged, before a key is generated, and again on issuing).
 */
export function subjectName(subject: string): x509.Name {
  const invalid = () => badParameter(`Invalid subject name '${shown(subject, 1024)}'.`);
  if (hasControlCharacter(subject)) throw invalid();
  let name: x509.Name;
  let rdns: x509.JsonName;
  try {
    name = new x509.Name(subject);
    // The values as the certificate will hold them: read back from the name's DER, since a '#'
    // value (RFC 4514: the attribute's BER, CN=#0C026100) is encoded as given and only shown as
    // hex by the parsed form. BER that does not decode throws here.
    rdns = new x509.Name(name.toArrayBuffer()).toJSON();
  } catch {
    throw invalid();
  }
  // The parser skips what it cannot read ("not a dn" is an empty name): a subject must name
  // at least one attribute, each with a value, or Key Vault refuses it. An escape (CN=a\00,
  // CN=a\0A) or a BER value must not bring in the control characters refused as they are.
  if (
    rdns.length === 0 ||
    rdns.some((rdn) =>
      Object.values(rdn)
        .flat()
        .some((v) => v === '' || hasControlCharacter(v)),
    )
  )
    throw invalid();
  return name;
}

/** Self-signed certificate (Key Vault issuer 'Self') for the policy, plus the CSR a pending operation reports. */
export async function issueSelfSigned(
  privateKeyPem: string,
  policy: PolicyState,
): Promise<IssuedCertificate> {
  const { keys, signAlg } = await webKeyPair(privateKeyPem);
  const props = policy.x509_props;
  const name = subjectName(props.subject);
  const usages = props.key_usage.reduce((acc, u) => acc | (KEY_USAGE_FLAGS[u] ?? 0), 0);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, false),
  ];
  if (usages) extensions.push(new x509.KeyUsagesExtension(usages, true));
  if (props.ekus.length) extensions.push(new x509.ExtendedKeyUsageExtension(props.ekus, false));
  extensions.push(
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, subtleCrypto),
  );

  // Whole seconds so that the attributes (Unix seconds) match the certificate exactly.
  const notBefore = new Date(Math.floor(Date.now() / 1000) * 1000);
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f; // a positive integer
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

/** Validity of a certificate in Unix seconds (Key Vault's nbf/exp attributes). */
export function validityOf(der: Buffer): { nbf: number; exp: number } {
  const cert = new X509Certificate(der);
  return {
    nbf: Math.floor(new Date(cert.validFrom).getTime() / 1000),
    exp: Math.floor(new Date(cert.validTo).getTime() / 1000),
  };
}
