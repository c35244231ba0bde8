// Self-signed client certificates for certificate-credential tests.
import 'reflect-metadata'; // @peculiar/x509 (tsyringe) needs it first
import * as x509 from '@peculiar/x509';
import { createHash, createPrivateKey, webcrypto, type KeyObject } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type PeculiarKeys = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'];

export interface ClientCert {
  certPem: string;
  keyPem: string;
  privateKey: KeyObject;
  /** base64url SHA-1 / SHA-256 of the DER (x5t / x5t#S256). */
  x5t: string;
  x5tS256: string;
  thumbprintSha256Hex: string;
  /** base64 DER, for x5c. */
  derBase64: string;
}

export async function createClientCert(
  cn = 'test-client',
  o: { notAfter?: Date } = {},
): Promise<ClientCert> {
  const alg = {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: 2048,
  };
  const keys = (await webcrypto.subtle.generateKey(alg, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${cn}`,
    notBefore: new Date(Date.now() - 86400_000),
    notAfter: o.notAfter ?? new Date(Date.now() + 30 * 86400_000),
    signingAlgorithm: alg,
    keys: keys as unknown as PeculiarKeys,
  });
  const der = Buffer.from(cert.rawData);
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8
    .toString('base64')
    .match(/.{1,64}/g)
    ?.join('\n')}\n-----END PRIVATE KEY-----\n`;
  return {
    certPem: cert.toString('pem') + '\n',
    keyPem,
    privateKey: createPrivateKey(keyPem),
    x5t: createHash('sha1').update(der).digest('base64url'),
    x5tS256: createHash('sha256').update(der).digest('base64url'),
    thumbprintSha256Hex: createHash('sha256').update(der).digest('hex'),
    derBase64: der.toString('base64'),
  };
}
