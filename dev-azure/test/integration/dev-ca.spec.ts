// The dev CA (@idp/dev-ca, re-exported by this package and by scripts/dev-ca.mjs, which
// scripts/with-dev-ca.mjs runs): what it issues, when it reuses and when it renews what is on
// disk, and its lock, which processes starting at once (test runners, with-dev-ca) share.
import 'reflect-metadata'; // @peculiar/x509 (tsyringe) needs it first
import * as x509 from '@peculiar/x509';
import { execFile } from 'node:child_process';
import { webcrypto, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureDevCa } from '../../src';

const run = promisify(execFile);
const scripts = path.resolve(__dirname, '..', '..', '..', 'scripts');
const withDevCa = path.join(scripts, 'with-dev-ca.mjs');
const devCaScript = path.join(scripts, 'dev-ca.mjs');
const DAY_MS = 24 * 60 * 60 * 1000;
/** What a CA directory holds once ensureDevCa() returns: no lock, no temporary files. */
const CA_FILES = ['ca.key.pem', 'ca.pem', 'server.key.pem', 'server.pem'];
const dirs: string[] = [];

function freshDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ca-test-'));
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

type X509Crypto = NonNullable<Parameters<typeof x509.X509CertificateGenerator.create>[1]>;
type KeyPair = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'];
const subtleCrypto = webcrypto as unknown as X509Crypto;
const ALG = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
};

async function newKeys(): Promise<KeyPair> {
  return (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as unknown as KeyPair;
}

async function keyPem(key: KeyPair['privateKey']): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

/** Replaces the server certificate in `dir` with one the CA there signs for the default names, valid until `notAfter`. */
async function writeServerCert(dir: string, notAfter: Date): Promise<string> {
  const caCert = new x509.X509Certificate(fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8'));
  const caKeyPem = fs.readFileSync(path.join(dir, 'ca.key.pem'), 'utf8');
  const caKey = await webcrypto.subtle.importKey(
    'pkcs8',
    Buffer.from(caKeyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64'),
    ALG,
    false,
    ['sign'],
  );
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: '01',
      subject: 'CN=localhost',
      issuer: caCert.subject,
      notBefore: new Date(Date.now() - DAY_MS),
      notAfter,
      signingAlgorithm: ALG,
      publicKey: keys.publicKey,
      signingKey: caKey as unknown as KeyPair['privateKey'],
      extensions: [
        new x509.SubjectAlternativeNameExtension([
          { type: 'dns', value: 'localhost' },
          { type: 'ip', value: '127.0.0.1' },
          { type: 'ip', value: '::1' },
        ]),
      ],
    },
    subtleCrypto,
  );
  const certPem = cert.toString('pem') + '\n';
  fs.writeFileSync(path.join(dir, 'server.key.pem'), await keyPem(keys.privateKey), {
    mode: 0o600,
  });
  fs.writeFileSync(path.join(dir, 'server.pem'), certPem);
  return certPem;
}

/** Replaces the CA in `dir` with a self-signed CA valid until `notAfter`. */
async function writeCa(dir: string, notAfter: Date): Promise<string> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: '01',
      name: 'CN=expiring dev CA',
      notBefore: new Date(Date.now() - DAY_MS),
      notAfter,
      signingAlgorithm: ALG,
      keys,
      extensions: [new x509.BasicConstraintsExtension(true, 0, true)],
    },
    subtleCrypto,
  );
  const caPem = cert.toString('pem') + '\n';
  fs.writeFileSync(path.join(dir, 'ca.key.pem'), await keyPem(keys.privateKey), { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'ca.pem'), caPem);
  return caPem;
}

const daysFromNow = (date: string) => (Date.parse(date) - Date.now()) / DAY_MS;

describe('dev CA', () => {
  it('creates a 10-year CA and a 1-year localhost server certificate it signs, then reuses them', async () => {
    const dir = freshDir();
    const first = await ensureDevCa({ dir });
    const ca = new X509Certificate(first.caPem);
    const server = new X509Certificate(first.certPem);
    expect(first).toMatchObject({
      caCertPath: path.join(dir, 'ca.pem'),
      certPath: path.join(dir, 'server.pem'),
      keyPath: path.join(dir, 'server.key.pem'),
    });
    expect(ca.ca).toBe(true);
    expect(ca.subject).toMatch(/^CN=identity-platform dev CA \d{4}-\d\d-\d\d\nO=identity-platform/);
    expect(ca.keyUsage).toBeUndefined(); // not an end-entity certificate
    expect(server.ca).toBe(false);
    expect(server.subject).toBe('CN=localhost\nO=identity-platform (development only)');
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkHost('localhost')).toBe('localhost');
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(server.checkIP('::1')).toBeDefined();
    expect(server.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']); // server + client auth
    expect(server.publicKey.asymmetricKeyDetails).toMatchObject({ modulusLength: 2048 });
    expect(daysFromNow(ca.validFrom)).toBeCloseTo(-1, 1);
    expect(daysFromNow(ca.validTo)).toBeCloseTo(3650, 1);
    expect(daysFromNow(server.validFrom)).toBeCloseTo(-1, 1);
    expect(daysFromNow(server.validTo)).toBeCloseTo(365, 1);
    for (const f of ['ca.key.pem', 'server.key.pem'])
      expect(fs.statSync(path.join(dir, f)).mode & 0o777).toBe(0o600);
    for (const f of ['ca.pem', 'server.pem'])
      expect(fs.statSync(path.join(dir, f)).mode & 0o777).toBe(0o644);

    const again = await ensureDevCa({ dir });
    expect(again).toEqual(first);
    expect(fs.readdirSync(dir).sort()).toEqual(CA_FILES);
  });

  it('reissues the server certificate (same CA) when a host is missing, keeping the names asked for before', async () => {
    const dir = freshDir();
    const before = await ensureDevCa({ dir, hosts: ['first.dev.test'] });
    const after = await ensureDevCa({ dir, hosts: ['API.dev.test'] });
    expect(after.caPem).toBe(before.caPem);
    expect(after.certPem).not.toBe(before.certPem);
    const cert = new X509Certificate(after.certPem);
    expect(cert.checkHost('api.dev.test')).toBe('api.dev.test');
    expect(cert.checkHost('first.dev.test')).toBe('first.dev.test');
    expect(cert.checkHost('localhost')).toBe('localhost');
    // Asking again for any of them reuses it.
    expect((await ensureDevCa({ dir, hosts: ['first.dev.test'] })).certPem).toBe(after.certPem);
  });

  it('renews a server certificate that expires within 30 days (same CA), and keeps one that does not', async () => {
    const dir = freshDir();
    const { caPem } = await ensureDevCa({ dir });
    const lasting = await writeServerCert(dir, new Date(Date.now() + 40 * DAY_MS));
    expect((await ensureDevCa({ dir })).certPem).toBe(lasting);

    const expiring = await writeServerCert(dir, new Date(Date.now() + 20 * DAY_MS));
    const renewed = await ensureDevCa({ dir });
    expect(renewed.caPem).toBe(caPem);
    expect(renewed.certPem).not.toBe(expiring);
    expect(daysFromNow(new X509Certificate(renewed.certPem).validTo)).toBeCloseTo(365, 1);
  });

  it('renews a CA that expires within 30 days, and the server certificate with it', async () => {
    const dir = freshDir();
    await ensureDevCa({ dir });
    const expiringCa = await writeCa(dir, new Date(Date.now() + 20 * DAY_MS));
    const renewed = await ensureDevCa({ dir });
    expect(renewed.caPem).not.toBe(expiringCa);
    const ca = new X509Certificate(renewed.caPem);
    expect(daysFromNow(ca.validTo)).toBeCloseTo(3650, 1);
    expect(new X509Certificate(renewed.certPem).checkIssued(ca)).toBe(true);
  });

  it('creates one CA and certificate when processes and calls start at once (under the lock)', async () => {
    const dir = freshDir();
    const env = { ...process.env, DEV_CA_DIR: dir };
    // Child processes through the scripts' ESM entry, calls in this process through the package.
    const [children, calls] = await Promise.all([
      Promise.all([1, 2, 3].map(() => run(process.execPath, [devCaScript], { env }))),
      Promise.all([1, 2].map(() => ensureDevCa({ dir }))),
    ]);
    expect(children.map((c) => c.stdout)).toEqual(
      [1, 2, 3].map(() => expect.stringContaining(`CA certificate:     ${dir}/ca.pem`)),
    );
    const onDisk = fs.readFileSync(path.join(dir, 'server.pem'), 'utf8');
    expect(calls.map((c) => c.certPem)).toEqual([onDisk, onDisk]);
    expect(calls[1]?.caPem).toBe(calls[0]?.caPem);
    expect(new X509Certificate(onDisk).checkIssued(new X509Certificate(calls[0]!.caPem))).toBe(
      true,
    );
    expect(fs.readdirSync(dir).sort()).toEqual(CA_FILES);
  });

  it('waits for a lock another process holds, and takes over one left behind (older than 30 s)', async () => {
    const dir = freshDir();
    const lock = path.join(dir, '.lock');
    fs.mkdirSync(lock);
    let settled = false;
    const waiting = ensureDevCa({ dir }).finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(settled).toBe(false);
    expect(fs.existsSync(path.join(dir, 'ca.pem'))).toBe(false);
    fs.rmSync(lock, { recursive: true });
    const created = await waiting;
    expect(fs.existsSync(lock)).toBe(false);

    fs.mkdirSync(lock);
    const stale = new Date(Date.now() - 60_000);
    fs.utimesSync(lock, stale, stale);
    expect(await ensureDevCa({ dir })).toEqual(created);
    expect(fs.existsSync(lock)).toBe(false);
  });

  it('with-dev-ca runs the command with NODE_EXTRA_CA_CERTS and forwards its exit code', async () => {
    const dir = freshDir();
    const before = await ensureDevCa({ dir });
    const { NODE_EXTRA_CA_CERTS: _inherited, ...rest } = process.env;
    const env = { ...rest, DEV_CA_DIR: dir };
    const printCaFile = [
      withDevCa,
      process.execPath,
      '-e',
      'console.log(process.env.NODE_EXTRA_CA_CERTS)',
    ];
    const ok = await run(process.execPath, printCaFile, { env });
    expect(ok.stdout.trim()).toBe(path.join(dir, 'ca.pem'));
    // A CA file the environment already trusts (a proxy's, say) stays trusted beside the dev CA.
    const other = path.join(dir, 'other-ca.pem');
    fs.writeFileSync(other, '-----BEGIN CERTIFICATE-----\nb3RoZXI=\n-----END CERTIFICATE-----\n');
    const both = await run(process.execPath, printCaFile, {
      env: { ...env, NODE_EXTRA_CA_CERTS: other },
    });
    expect(both.stdout.trim()).toBe(path.join(dir, 'ca-and-inherited.pem'));
    const bundle = fs.readFileSync(both.stdout.trim(), 'utf8');
    expect(bundle).toContain(before.caPem.trim());
    expect(bundle).toContain('b3RoZXI=');
    // It reused what was there.
    expect(fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8')).toBe(before.caPem);
    expect(fs.readFileSync(path.join(dir, 'server.pem'), 'utf8')).toBe(before.certPem);
    await expect(
      run(process.execPath, [withDevCa, process.execPath, '-e', 'process.exit(7)'], { env }),
    ).rejects.toMatchObject({ code: 7 });
  });
});
