// PKCS#12 (PFX) in and out, via node-forge's ASN.1 and PKCS#12 primitives.
// forge's high-level PFX writer only understands RSA keys, so the PFX is
// assembled here from DER so that EC keys work too.
import forge from 'node-forge';
import { badParameter } from './errors';

const { asn1, pki } = forge;

export interface PfxContents {
  /** DER certificates in bag order. */
  certificates: Buffer[];
  /** PKCS#8 DER private keys. */
  privateKeys: Buffer[];
}

const toForgeBytes = (buf: Buffer): string => buf.toString('binary');
const fromForgeBytes = (bytes: string): Buffer => Buffer.from(bytes, 'binary');
const derOf = (obj: forge.asn1.Asn1): Buffer => fromForgeBytes(asn1.toDer(obj).getBytes());

export function parsePfx(pfx: Buffer, password: string | undefined): PfxContents {
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    const obj = asn1.fromDer(forge.util.createBuffer(toForgeBytes(pfx)));
    p12 = forge.pkcs12.pkcs12FromAsn1(obj, false, password ?? '');
  } catch {
    throw badParameter(
      'The specified PEM X.509 certificate content is in an unexpected format, or the PKCS#12 password is wrong. Please check if certificate is in valid PEM or PFX format.',
    );
  }
  const certificates: Buffer[] = [];
  const privateKeys: Buffer[] = [];
  for (const safe of p12.safeContents) {
    for (const bag of safe.safeBags) {
      if (bag.type === pki.oids.certBag) {
        certificates.push(bag.cert ? derOf(pki.certificateToAsn1(bag.cert)) : derOf(bag.asn1));
      } else if (bag.type === pki.oids.keyBag || bag.type === pki.oids.pkcs8ShroudedKeyBag) {
        // forge decodes RSA keys itself and leaves other key types as PrivateKeyInfo ASN.1.
        privateKeys.push(
          bag.key ? derOf(pki.wrapRsaPrivateKey(pki.privateKeyToAsn1(bag.key))) : derOf(bag.asn1),
        );
      }
    }
  }
  return { certificates, privateKeys };
}

/**
 * A PFX like the one Key Vault returns for a certificate's secret: no
 * password, unencrypted key bag, SHA-1 HMAC over the empty password.
 */
export function buildPfx(certificates: Buffer[], pkcs8: Buffer): Buffer {
  const seq = (items: forge.asn1.Asn1[]) =>
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, items);
  const oid = (id: string) =>
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(id).getBytes());
  const octets = (bytes: string) =>
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, bytes);
  const explicit0 = (inner: forge.asn1.Asn1) =>
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [inner]);
  const dataContentInfo = (inner: forge.asn1.Asn1) =>
    seq([oid(pki.oids.data), explicit0(octets(asn1.toDer(inner).getBytes()))]);

  const sha1 = forge.md.sha1.create();
  sha1.update(toForgeBytes(certificates[0]));
  const localKeyId = sha1.digest().getBytes();
  const bagAttrs = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, [
    seq([
      oid(pki.oids.localKeyId),
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, [octets(localKeyId)]),
    ]),
  ]);

  const certBags = certificates.map((der, i) => {
    const bag = [
      oid(pki.oids.certBag),
      explicit0(seq([oid(pki.oids.x509Certificate), explicit0(octets(toForgeBytes(der)))])),
    ];
    if (i === 0) bag.push(bagAttrs);
    return seq(bag);
  });
  const keyInfo = asn1.fromDer(forge.util.createBuffer(toForgeBytes(pkcs8)));
  const keyBag = seq([oid(pki.oids.keyBag), explicit0(keyInfo), bagAttrs]);

  const safe = seq([dataContentInfo(seq(certBags)), dataContentInfo(seq([keyBag]))]);
  const safeDer = asn1.toDer(safe).getBytes();

  const count = 2048;
  const macSalt = forge.util.createBuffer(forge.random.getBytesSync(8));
  const macKey = forge.pkcs12.generateKey('', macSalt, 3, count, 20);
  const hmac = forge.hmac.create();
  hmac.start('sha1', macKey);
  hmac.update(safeDer);
  const macData = seq([
    seq([
      seq([oid(pki.oids.sha1), asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, '')]),
      octets(hmac.digest().getBytes()),
    ]),
    octets(macSalt.getBytes()),
    asn1.create(
      asn1.Class.UNIVERSAL,
      asn1.Type.INTEGER,
      false,
      asn1.integerToDer(count).getBytes(),
    ),
  ]);

  const pfx = seq([
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(3).getBytes()),
    seq([oid(pki.oids.data), explicit0(octets(safeDer))]),
    macData,
  ]);
  return derOf(pfx);
}
