// Key Vault stand-in: certificates through @azure/keyvault-certificates, and
// the three faces of a certificate (certificate, key, secret).
import { CertificateClient } from '@azure/keyvault-certificates';
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys';
import forge from 'node-forge';
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  verify as nodeVerify,
  X509Certificate,
  constants,
} from 'node:crypto';
import { createSecureContext } from 'node:tls';
import {
  credentialFor,
  devClientOptions,
  newClient,
  rawRequest,
  startVaultFixture,
  type VaultFixture,
} from './keyvault-harness';

const API = 'api-version=2025-07-01';

/** A self-signed RSA certificate and key as a password-protected PFX (3DES, like older Windows exports). */
function makePfx(password: string): { pfx: Buffer; certDer: Buffer } {
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date();
  cert.validity.notAfter = new Date(Date.now() + 86400_000 * 30);
  cert.setSubject([{ name: 'commonName', value: 'imported-pfx' }]);
  cert.setIssuer([{ name: 'commonName', value: 'imported-pfx' }]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  const asn1 = forge.pkcs12.toPkcs12Asn1(keys.privateKey, cert, password, { algorithm: '3des' });
  return {
    pfx: Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary'),
    certDer: Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary'),
  };
}

describe('Key Vault stand-in: certificates', () => {
  const officer = newClient();
  const signer = newClient();
  const secrets = newClient();
  const admin = newClient();
  let fx: VaultFixture;
  let certs: CertificateClient;

  beforeAll(async () => {
    fx = await startVaultFixture(
      [officer, signer, secrets, admin],
      [
        { principalId: officer.clientId, role: 'Key Vault Certificates Officer' },
        { principalId: signer.clientId, role: 'Key Vault Crypto User' },
        { principalId: secrets.clientId, role: 'Key Vault Secrets User' },
        { principalId: admin.clientId, role: 'Key Vault Administrator' },
      ],
      { seedCertificates: [{ name: 'locked', subject: 'CN=locked' }] },
    );
    certs = new CertificateClient(
      fx.vault.url,
      credentialFor(fx.issuer, officer),
      devClientOptions,
    );
  });

  afterAll(async () => {
    await fx?.close();
  });

  it('creates a self-signed certificate with beginCreateCertificate().pollUntilDone(); x5t and cer describe the DER', async () => {
    const poller = await certs.beginCreateCertificate('policy-daemon', {
      issuerName: 'Self',
      subject: 'CN=policy-daemon',
      keyType: 'RSA',
      keySize: 2048,
      exportable: false,
      validityInMonths: 6,
      subjectAlternativeNames: { dnsNames: ['policy-daemon.internal'] },
    });
    const created = await poller.pollUntilDone();
    expect(created.name).toBe('policy-daemon');

    const cert = await certs.getCertificate('policy-daemon');
    const der = Buffer.from(cert.cer!);
    const x509 = new X509Certificate(der);
    expect(x509.subject).toBe('CN=policy-daemon');
    expect(x509.subjectAltName).toBe('DNS:policy-daemon.internal');
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(Buffer.from(cert.properties.x509Thumbprint!).toString('base64url')).toBe(
      createHash('sha1').update(der).digest('base64url'),
    );
    expect(cert.properties.expiresOn!.getTime()).toBe(new Date(x509.validTo).getTime());
    expect(cert.policy?.exportable).toBe(false);
    expect(cert.policy?.issuerName).toBe('Self');
    expect(cert.policy?.subject).toBe('CN=policy-daemon');
    const version = cert.properties.version!;
    expect(cert.keyId).toBe(`${fx.vault.url}/keys/policy-daemon/${version}`);
    expect(cert.secretId).toBe(`${fx.vault.url}/secrets/policy-daemon/${version}`);

    // In-process view for other stand-ins (public material only).
    const local = fx.vault.certificate('Policy-Daemon');
    expect(local?.der.equals(der)).toBe(true);
    expect(local?.version).toBe(version);
    expect(local?.x5t).toBe(createHash('sha1').update(der).digest('base64url'));
    expect(local?.x5tS256).toBe(createHash('sha256').update(der).digest('base64url'));
    expect(new X509Certificate(local!.pem).raw.equals(der)).toBe(true);
    expect(fx.vault.certificate('absent')).toBeUndefined();

    const op = await certs.getCertificateOperation('policy-daemon');
    expect(op.getOperationState().certificateOperation?.status).toBe('completed');

    // The key face signs with the certificate's private key: verify with the certificate's public key.
    const credential = credentialFor(fx.issuer, signer);
    const key = await new KeyClient(fx.vault.url, credential, devClientOptions).getKey(
      'policy-daemon',
    );
    expect(key.id).toBe(cert.keyId);
    const message = Buffer.from('client assertion signing input');
    const signed = await new CryptographyClient(cert.keyId!, credential, devClientOptions).sign(
      'PS256',
      createHash('sha256').update(message).digest(),
    );
    expect(
      nodeVerify(
        'sha256',
        message,
        { key: x509.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
        signed.result,
      ),
    ).toBe(true);
  });

  it('reports create as 202 with a pending operation and a Location, completed on GET /pending', async () => {
    const token = await fx.issuer.mint(officer);
    const res = await rawRequest(`${fx.vault.url}/certificates/raw-create/create?${API}`, {
      method: 'POST',
      token,
      body: JSON.stringify({
        policy: {
          key_props: { kty: 'EC', crv: 'P-256', exportable: true },
          x509_props: { subject: 'CN=raw' },
          issuer: { name: 'Self' },
        },
      }),
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      id: `${fx.vault.url}/certificates/raw-create/pending`,
      status: 'inProgress',
      issuer: { name: 'Self' },
    });
    expect(res.headers.get('location')).toMatch(
      new RegExp(
        `^${fx.vault.url}/certificates/raw-create/pending\\?api-version=2025-07-01&request_id=[0-9a-f]{32}$`,
      ),
    );
    const pending = await rawRequest(`${fx.vault.url}/certificates/raw-create/pending?${API}`, {
      token,
    });
    expect(pending.body).toMatchObject({
      status: 'completed',
      target: `${fx.vault.url}/certificates/raw-create`,
    });
    const csr = Buffer.from((pending.body as { csr: string }).csr, 'base64');
    expect(csr.length).toBeGreaterThan(100);
    const bundle = await rawRequest(`${fx.vault.url}/certificates/raw-create?${API}`, { token });
    expect(bundle.body).toMatchObject({
      policy: {
        key_props: { kty: 'EC', crv: 'P-256', exportable: true },
        secret_props: { contentType: 'application/x-pkcs12' },
      },
    });
  });

  it('creates a new certificate version and a new key version on create-again', async () => {
    await (
      await certs.beginCreateCertificate('rotating', { issuerName: 'Self', subject: 'CN=rotating' })
    ).pollUntilDone();
    const first = await certs.getCertificate('rotating');
    await (
      await certs.beginCreateCertificate('rotating', { issuerName: 'Self', subject: 'CN=rotating' })
    ).pollUntilDone();
    const second = await certs.getCertificate('rotating');
    expect(second.properties.version).not.toBe(first.properties.version);
    expect(second.keyId).toBe(`${fx.vault.url}/keys/rotating/${second.properties.version}`);
    expect(Buffer.from(second.cer!).equals(Buffer.from(first.cer!))).toBe(false);

    const versions: string[] = [];
    for await (const p of certs.listPropertiesOfCertificateVersions('rotating'))
      versions.push(p.version!);
    expect(versions.sort()).toEqual([first.properties.version, second.properties.version].sort());
    const older = await certs.getCertificateVersion('rotating', first.properties.version!);
    expect(Buffer.from(older.cer!).equals(Buffer.from(first.cer!))).toBe(true);

    const keys = new KeyClient(fx.vault.url, credentialFor(fx.issuer, signer), devClientOptions);
    const keyVersions: string[] = [];
    for await (const p of keys.listPropertiesOfKeyVersions('rotating'))
      keyVersions.push(p.version!);
    expect(keyVersions.sort()).toEqual(versions.sort());
    const oldKey = await keys.getKey('rotating', { version: first.properties.version });
    const newKey = await keys.getKey('rotating');
    expect(Buffer.from(oldKey.key!.n!).equals(Buffer.from(newKey.key!.n!))).toBe(false);

    const names: string[] = [];
    for await (const p of certs.listPropertiesOfCertificates()) names.push(p.name!);
    expect(names).toEqual(expect.arrayContaining(['locked', 'policy-daemon', 'rotating']));
  });

  it('imports PEM (certificate + private key) and signs with the imported key', async () => {
    const pem = fx.tls.keyPem + fx.tls.certPem;
    const imported = await certs.importCertificate('imported-pem', Buffer.from(pem), {
      policy: { contentType: 'application/x-pem-file' },
    });
    const expectedDer = new X509Certificate(fx.tls.certPem).raw;
    expect(Buffer.from(imported.cer!).equals(expectedDer)).toBe(true);
    expect(Buffer.from(imported.properties.x509Thumbprint!).toString('base64url')).toBe(
      createHash('sha1').update(expectedDer).digest('base64url'),
    );
    expect(imported.policy?.issuerName).toBe('Unknown');

    const credential = credentialFor(fx.issuer, signer);
    const digest = createHash('sha256').update('imported').digest();
    const signed = await new CryptographyClient(imported.keyId!, credential, devClientOptions).sign(
      'RS256',
      digest,
    );
    expect(
      nodeVerify('sha256', Buffer.from('imported'), createPublicKey(fx.tls.keyPem), signed.result),
    ).toBe(true);
  });

  it('imports a password-protected PFX and refuses a wrong password with BadParameter', async () => {
    const { pfx, certDer } = makePfx('pfx-pass');
    const imported = await certs.importCertificate('imported-pfx', pfx, { password: 'pfx-pass' });
    expect(Buffer.from(imported.cer!).equals(certDer)).toBe(true);
    await expect(
      certs.importCertificate('imported-pfx-2', pfx, { password: 'wrong' }),
    ).rejects.toMatchObject({ statusCode: 400, code: 'BadParameter' });
    await expect(
      certs.importCertificate('imported-bad', Buffer.from('not a certificate at all')),
    ).rejects.toMatchObject({ statusCode: 400, code: 'BadParameter' });
  });

  it('serves the secret face of exportable certificates as PEM or PFX, to Secrets Users only', async () => {
    await (
      await certs.beginCreateCertificate('export-pem', {
        issuerName: 'Self',
        subject: 'CN=export-pem',
        exportable: true,
        contentType: 'application/x-pem-file',
      })
    ).pollUntilDone();
    await (
      await certs.beginCreateCertificate('export-pfx', {
        issuerName: 'Self',
        subject: 'CN=export-pfx',
        exportable: true,
      })
    ).pollUntilDone();
    const token = await fx.issuer.mint(secrets);

    const pem = await rawRequest(`${fx.vault.url}/secrets/export-pem?${API}`, { token });
    expect(pem.status).toBe(200);
    const pemBundle = pem.body as {
      value: string;
      contentType: string;
      kid: string;
      managed: boolean;
    };
    expect(pemBundle.contentType).toBe('application/x-pem-file');
    expect(pemBundle.managed).toBe(true);
    const certPem = (await certs.getCertificate('export-pem')).cer!;
    const x509 = new X509Certificate(Buffer.from(certPem));
    expect(pemBundle.value).toContain('-----BEGIN PRIVATE KEY-----');
    expect(
      new X509Certificate(
        pemBundle.value.slice(pemBundle.value.indexOf('-----BEGIN CERTIFICATE-----')),
      ).raw.equals(x509.raw),
    ).toBe(true);
    expect(x509.checkPrivateKey(createPrivateKey(pemBundle.value))).toBe(true);

    const pfx = await rawRequest(`${fx.vault.url}/secrets/export-pfx?${API}`, { token });
    expect(pfx.status).toBe(200);
    const pfxBundle = pfx.body as { value: string; contentType: string };
    expect(pfxBundle.contentType).toBe('application/x-pkcs12');
    // OpenSSL (through tls) accepts it as a PFX with key and certificate.
    expect(() =>
      createSecureContext({ pfx: Buffer.from(pfxBundle.value, 'base64') }),
    ).not.toThrow();
    const p12 = forge.pkcs12.pkcs12FromAsn1(
      forge.asn1.fromDer(Buffer.from(pfxBundle.value, 'base64').toString('binary')),
      '',
    );
    const certBag = p12.getBags({ bagType: forge.pki.oids.certBag })[forge.pki.oids.certBag]![0];
    const exportedDer = Buffer.from(
      forge.asn1.toDer(forge.pki.certificateToAsn1(certBag.cert!)).getBytes(),
      'binary',
    );
    expect(exportedDer.equals(Buffer.from((await certs.getCertificate('export-pfx')).cer!))).toBe(
      true,
    );

    // A Certificates Officer may manage certificates but not read their private keys.
    const officerToken = await fx.issuer.mint(officer);
    const refused = await rawRequest(`${fx.vault.url}/secrets/export-pem?${API}`, {
      token: officerToken,
    });
    expect(refused.status).toBe(403);
    expect(
      (refused.body as { error: { innererror: { code: string } } }).error.innererror.code,
    ).toBe('ForbiddenByRbac');
  });

  it('serves exportable EC certificates as PFX too', async () => {
    await (
      await certs.beginCreateCertificate('export-ec', {
        issuerName: 'Self',
        subject: 'CN=export-ec',
        keyType: 'EC',
        keyCurveName: 'P-256',
        exportable: true,
      })
    ).pollUntilDone();
    const res = await rawRequest(`${fx.vault.url}/secrets/export-ec?${API}`, {
      token: await fx.issuer.mint(secrets),
    });
    expect(res.status).toBe(200);
    expect(() =>
      createSecureContext({ pfx: Buffer.from((res.body as { value: string }).value, 'base64') }),
    ).not.toThrow();
  });

  it('refuses the secret face of a non-exportable certificate with 403 Forbidden, even to an Administrator', async () => {
    for (const who of [secrets, admin]) {
      const res = await rawRequest(`${fx.vault.url}/secrets/locked?${API}`, {
        token: await fx.issuer.mint(who),
      });
      expect(res.status).toBe(403);
      expect((res.body as { error: { code: string } }).error.code).toBe('Forbidden');
    }
    const cert = await certs.getCertificate('locked');
    expect(cert.policy?.exportable).toBe(false);
  });

  it('reports CertificateNotFound, and refuses issuers other than Self', async () => {
    await expect(certs.getCertificate('missing')).rejects.toMatchObject({
      statusCode: 404,
      code: 'CertificateNotFound',
    });
    await expect(
      certs.getCertificateVersion('locked', '0123456789abcdef0123456789abcdef'),
    ).rejects.toMatchObject({ statusCode: 404 });
    await expect(
      certs.beginCreateCertificate('needs-ca', { issuerName: 'Unknown', subject: 'CN=needs-ca' }),
    ).rejects.toMatchObject({ statusCode: 400, code: 'BadParameter' });
    const secretsRes = await rawRequest(`${fx.vault.url}/secrets/missing?${API}`, {
      token: await fx.issuer.mint(secrets),
    });
    expect(secretsRes.status).toBe(404);
    expect((secretsRes.body as { error: { code: string } }).error.code).toBe('SecretNotFound');
  });
});
