// Key Vault stand-in: certificates through @azure/keyvault-certificates (create, rotate by
// creating a new version, get), and the key face a certificate signs with. Private keys never
// leave the vault: there is no secrets interface.
import { CertificateClient } from '@azure/keyvault-certificates';
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys';
import { createHash, verify as nodeVerify, X509Certificate, constants } from 'node:crypto';
import {
  API,
  credentialFor,
  devClientOptions,
  newClient,
  rawRequest,
  startVaultFixture,
  type VaultFixture,
} from '../support/keyvault-harness';

describe('Key Vault stand-in: certificates', () => {
  const officer = newClient();
  const signer = newClient();
  const admin = newClient();
  let fx: VaultFixture;
  let certs: CertificateClient;

  beforeAll(async () => {
    fx = await startVaultFixture(
      [officer, signer, admin],
      [
        { principalId: officer.clientId, role: 'Key Vault Certificates Officer' },
        { principalId: signer.clientId, role: 'Key Vault Crypto User' },
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
    });
    const created = await poller.pollUntilDone();
    expect(created.name).toBe('policy-daemon');

    const cert = await certs.getCertificate('policy-daemon');
    const der = Buffer.from(cert.cer!);
    const x509 = new X509Certificate(der);
    expect(x509.subject).toBe('CN=policy-daemon');
    expect(new Date(x509.validTo).getTime() - new Date(x509.validFrom).getTime()).toBeGreaterThan(
      150 * 86400_000,
    );
    expect(new Date(x509.validTo).getTime() - new Date(x509.validFrom).getTime()).toBeLessThan(
      190 * 86400_000,
    );
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
          key_props: { kty: 'RSA', key_size: 3072, exportable: true },
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
      policy: { key_props: { kty: 'RSA', key_size: 3072, exportable: true } },
    });
  });

  it('answers a create with a repeated api-version with a Location the poller can follow (one api-version); refuses differing ones', async () => {
    const token = await fx.issuer.mint(officer);
    const body = JSON.stringify({
      policy: { key_props: { kty: 'RSA', key_size: 2048 }, x509_props: { subject: 'CN=twice' } },
    });
    const res = await rawRequest(`${fx.vault.url}/certificates/twice/create?${API}&${API}`, {
      method: 'POST',
      token,
      body,
    });
    expect(res.status).toBe(202);
    const location = res.headers.get('location') ?? '';
    expect(new URL(location).searchParams.getAll('api-version')).toEqual(['2025-07-01']);
    const pending = await rawRequest(location, { token });
    expect(pending.status).toBe(200);
    expect(pending.body).toMatchObject({ status: 'completed' });

    const mixed = await rawRequest(
      `${fx.vault.url}/certificates/twice/create?${API}&api-version=7.5`,
      { method: 'POST', token, body },
    );
    expect(mixed.status).toBe(400);
    expect(mixed.body).toMatchObject({ error: { code: 'BadParameter' } });
    expect(JSON.stringify(mixed.body)).toContain('2025-07-01,7.5');
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

    const older = await certs.getCertificateVersion('rotating', first.properties.version!);
    expect(Buffer.from(older.cer!).equals(Buffer.from(first.cer!))).toBe(true);

    const keys = new KeyClient(fx.vault.url, credentialFor(fx.issuer, signer), devClientOptions);
    const oldKey = await keys.getKey('rotating', { version: first.properties.version });
    const newKey = await keys.getKey('rotating');
    expect(oldKey.id).toBe(first.keyId);
    expect(newKey.id).toBe(second.keyId);
    expect(Buffer.from(oldKey.key!.n!).equals(Buffer.from(newKey.key!.n!))).toBe(false);
  });

  it('never hands out private keys: no secrets interface, even to an Administrator, and no d in key bundles', async () => {
    const token = await fx.issuer.mint(admin);
    for (const path of ['/secrets/locked', '/secrets/locked/versions', '/secrets']) {
      const res = await rawRequest(`${fx.vault.url}${path}?${API}`, { token });
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect((res.body as { error: { code: string } }).error.code).toBe('NotFound');
    }
    const key = await new KeyClient(
      fx.vault.url,
      credentialFor(fx.issuer, admin),
      devClientOptions,
    ).getKey('locked');
    expect(key.key?.d).toBeUndefined();
    expect(key.properties.exportable).toBe(false);
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
  });

  it('refuses a subject that is not a distinguished name, and stores nothing', async () => {
    for (const subject of ['not a dn', 'CN=', '=x']) {
      await expect(
        certs.beginCreateCertificate('bad-subject', { issuerName: 'Self', subject }),
      ).rejects.toMatchObject({
        statusCode: 400,
        code: 'BadParameter',
        message: `Invalid subject name '${subject}'.`,
      });
    }
    await expect(certs.getCertificate('bad-subject')).rejects.toMatchObject({ statusCode: 404 });
  });

  it('refuses control characters and lone surrogates in a subject, as they are or escaped, naming them readably; the policy stays', async () => {
    const cases: [subject: string, named: string][] = [
      ['CN=a\u0000b', 'CN=a\\u0000b'],
      ['CN=line\nbreak', 'CN=line\\u000abreak'],
      ['CN=ok, O=del\u007f', 'CN=ok, O=del\\u007f'],
      ['CN=nel\u0085', 'CN=nel\\u0085'],
      // A lone surrogate (JSON carries it as \ud800) is no character at all: it was a 500.
      ['CN=\ud800', 'CN=\\ud800'],
      // An RFC 4514 hex escape the DN parser turns into a control character (a line feed).
      ['CN=a\\0Ab', 'CN=a\\0Ab'],
      // RFC 4514 '#' values are the attribute's BER encoding, put into the certificate as they
      // are: a UTF8String "a\0", a BMPString NUL, a UniversalString NUL, an empty UTF8String.
      ['CN=#0C026100', 'CN=#0C026100'],
      ['CN=ok, O=#1E020000', 'CN=ok, O=#1E020000'],
      ['CN=#1C0400000000', 'CN=#1C0400000000'],
      ['CN=#0C00', 'CN=#0C00'],
      // BER that does not decode (a length past its end) is no name either (never a 500).
      ['CN=#0C05', 'CN=#0C05'],
    ];
    for (const [subject, named] of cases) {
      await expect(
        certs.beginCreateCertificate('ctl-subject', { issuerName: 'Self', subject }),
      ).rejects.toMatchObject({
        statusCode: 400,
        code: 'BadParameter',
        message: `Invalid subject name '${named}'.`,
      });
    }
    await expect(certs.getCertificate('ctl-subject')).rejects.toMatchObject({ statusCode: 404 });
    // A '#' value that decodes to an acceptable string is still taken (UTF8String "a€").
    const hex = await (
      await certs.beginCreateCertificate('hex-subject', {
        issuerName: 'Self',
        subject: 'CN=#0C0461E282AC',
      })
    ).pollUntilDone();
    expect(new X509Certificate(Buffer.from(hex.cer!)).subject).toBe('CN=a\u20ac');

    // A new version of an existing certificate with such a subject changes nothing.
    await (
      await certs.beginCreateCertificate('ctl-existing', { issuerName: 'Self', subject: 'CN=fine' })
    ).pollUntilDone();
    await expect(
      certs.beginCreateCertificate('ctl-existing', { issuerName: 'Self', subject: 'CN=\u0007' }),
    ).rejects.toMatchObject({ statusCode: 400, code: 'BadParameter' });
    const kept = await certs.getCertificate('ctl-existing');
    expect(kept.policy?.subject).toBe('CN=fine');
    expect(new X509Certificate(Buffer.from(kept.cer!)).subject).toBe('CN=fine');

    // Issuer and key usage names are echoed escaped too.
    const token = await fx.issuer.mint(officer);
    const issuer = await rawRequest(`${fx.vault.url}/certificates/ctl-issuer/create?${API}`, {
      method: 'POST',
      token,
      body: JSON.stringify({
        policy: { x509_props: { subject: 'CN=x', key_usage: ['digitalSignature\u0000'] } },
      }),
    });
    expect(issuer.status).toBe(400);
    expect(issuer.body).toEqual({
      error: { code: 'BadParameter', message: "Invalid key usage 'digitalSignature\\u0000'." },
    });
    const named = await rawRequest(`${fx.vault.url}/certificates/a%00b?${API}`, { token });
    expect(named.status).toBe(400);
    expect(named.body).toEqual({
      error: {
        code: 'BadParameter',
        message: 'The request URI contains an invalid name: a\\u0000b',
      },
    });
  });
});
