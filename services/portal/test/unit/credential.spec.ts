import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { credentialOf } from '../../src/auth/msal-clients';
import { loadPortalConfig } from '../../src/config';
import { portalEnv } from '../support/portal-env';

const base = {
  ...portalEnv(),
  DATABASE_URL: 'postgres://u@127.0.0.1/db',
};

describe('client credential', () => {
  it('uses the client secret when no certificate is configured', () => {
    expect(credentialOf(loadPortalConfig(base))).toEqual({
      clientSecret: 'portal-dev-secret-5f0c9a7e2b',
    });
  });

  it('uses a certificate (SHA-256 thumbprint, key, x5c) instead of a secret', () => {
    const dir = dirname(
      process.env.NODE_EXTRA_CA_CERTS ??
        join(__dirname, '..', '..', '..', '..', '.dev', 'ca', 'ca.pem'),
    );
    const certFile = join(dir, 'server.pem');
    const keyFile = join(dir, 'server.key.pem');
    const c = loadPortalConfig({
      ...base,
      B2C_CLIENT_SECRET: undefined,
      B2C_CLIENT_CERTIFICATE_FILE: certFile,
      B2C_CLIENT_PRIVATE_KEY_FILE: keyFile,
    });
    const cred = credentialOf(c);
    expect(cred.clientSecret).toBeUndefined();
    expect(cred.clientCertificate?.thumbprintSha256).toBe(
      new X509Certificate(readFileSync(certFile)).fingerprint256.replace(/:/g, ''),
    );
    expect(cred.clientCertificate?.privateKey).toContain('PRIVATE KEY');
    expect(cred.clientCertificate?.x5c).toContain('BEGIN CERTIFICATE');
  });

  it('refuses half a certificate pair', () => {
    expect(() => loadPortalConfig({ ...base, B2C_CLIENT_CERTIFICATE_FILE: '/x.pem' })).toThrow(
      /B2C_CLIENT_PRIVATE_KEY_FILE: B2C_CLIENT_CERTIFICATE_FILE and B2C_CLIENT_PRIVATE_KEY_FILE go together/,
    );
  });
});
