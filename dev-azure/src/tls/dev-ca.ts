// The local development certificate authority, generated once and reused: a CA and a server
// certificate it signs for localhost (plus any extra names callers ask for), so the stand-ins
// speak HTTPS and Node clients trust them through NODE_EXTRA_CA_CERTS.
//
// On-disk contract, shared with scripts/dev-ca.mjs (which `npm run up`, scripts/with-dev-ca.mjs,
// the kind setup and the benchmarks use) so either side reuses what the other wrote:
//   <dir>/ca.pem, ca.key.pem          CA certificate (PEM, 0644) and PKCS#8 key (0600)
//   <dir>/server.pem, server.key.pem  server certificate (PEM, 0644) and PKCS#8 key (0600)
//   <dir>/.lock                       a directory held while generating (stale after 30 s)
// <dir> is `dir`, else $DEV_CA_DIR, else <repo>/.dev/ca. RSA 2048 / SHA-256 throughout; the
// server certificate is reissued (same CA) when it lacks a requested name or expires within 30
// days, keeping the names an earlier caller asked for.
import 'reflect-metadata'; // @peculiar/x509 (tsyringe) needs the Reflect polyfill loaded first
import * as x509 from '@peculiar/x509';
import { webcrypto, X509Certificate as NodeX509 } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface DevCaFiles {
  caCertPath: string;
  certPath: string;
  keyPath: string;
  caPem: string;
  certPem: string;
  keyPem: string;
}

export interface DevCaOptions {
  /** Default: $DEV_CA_DIR, else <repo>/.dev/ca. */
  dir?: string;
  /** Names the server certificate must cover besides localhost, 127.0.0.1 and ::1. */
  hosts?: string[];
}

interface Paths {
  caCertPath: string;
  caKeyPath: string;
  certPath: string;
  keyPath: string;
}

type X509Crypto = NonNullable<Parameters<typeof x509.X509CertificateGenerator.create>[1]>;
// Passed explicitly so the process-wide @peculiar/x509 provider stays untouched.
const subtleCrypto = webcrypto as unknown as X509Crypto;

/** <repo>/.dev/ca; src/tls and dist/tls sit at the same depth below the repository. */
export const defaultCaDir = path.resolve(__dirname, '..', '..', '..', '.dev', 'ca');

const DAY_MS = 24 * 60 * 60 * 1000;
const RENEW_BEFORE_MS = 30 * DAY_MS;
const CA_LIFETIME_MS = 3650 * DAY_MS;
const SERVER_LIFETIME_MS = 365 * DAY_MS;
const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 60_000;
const DEFAULT_HOSTS = ['localhost', '127.0.0.1', '::1'];
const ALG = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
};

/** Ensures the dev CA and a server certificate covering `hosts` exist, and returns them. */
export async function ensureDevCa(options: DevCaOptions = {}): Promise<DevCaFiles> {
  const dir = path.resolve(options.dir ?? process.env.DEV_CA_DIR ?? defaultCaDir);
  const hosts = unique([...DEFAULT_HOSTS, ...(options.hosts ?? [])]);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files: Paths = {
    caCertPath: path.join(dir, 'ca.pem'),
    caKeyPath: path.join(dir, 'ca.key.pem'),
    certPath: path.join(dir, 'server.pem'),
    keyPath: path.join(dir, 'server.key.pem'),
  };
  // Several test runners may start at once: generate under a lock.
  return withLock(path.join(dir, '.lock'), async () => {
    let caFresh = false;
    if (!usableCert(files.caCertPath, [], true) || !fs.existsSync(files.caKeyPath)) {
      await createCa(files);
      caFresh = true;
    }
    if (
      caFresh ||
      !usableCert(files.certPath, hosts, false, files.caCertPath) ||
      !fs.existsSync(files.keyPath)
    ) {
      // Keep names an earlier caller asked for, so callers with different extras don't flip-flop.
      await createServerCert(files, unique([...hosts, ...existingHosts(files.certPath)]));
    }
    return {
      caCertPath: files.caCertPath,
      certPath: files.certPath,
      keyPath: files.keyPath,
      caPem: fs.readFileSync(files.caCertPath, 'utf8'),
      certPem: fs.readFileSync(files.certPath, 'utf8'),
      keyPem: fs.readFileSync(files.keyPath, 'utf8'),
    };
  });
}

function unique(values: string[]): string[] {
  return [...new Set(values.map((v) => normalizeHost(v.trim())).filter(Boolean))];
}

function normalizeHost(h: string): string {
  return net.isIP(h) === 6 ? new URL(`http://[${h}]`).hostname.slice(1, -1) : h.toLowerCase();
}

/** True when the PEM at `file` parses, is not about to expire, covers `hosts` and (optionally) chains to the CA. */
function usableCert(file: string, hosts: string[], isCa: boolean, caFile?: string): boolean {
  if (!fs.existsSync(file)) return false;
  try {
    const cert = new NodeX509(fs.readFileSync(file));
    if (Date.parse(cert.validTo) - Date.now() < RENEW_BEFORE_MS) return false;
    if (isCa) return cert.ca;
    if (caFile && !cert.checkIssued(new NodeX509(fs.readFileSync(caFile)))) return false;
    return hosts.every((h) =>
      net.isIP(h) ? cert.checkIP(h) !== undefined : cert.checkHost(h) !== undefined,
    );
  } catch {
    return false;
  }
}

function existingHosts(file: string): string[] {
  try {
    const san = new NodeX509(fs.readFileSync(file)).subjectAltName ?? '';
    return san
      .split(/,\s*/)
      .map((entry) => entry.replace(/^(DNS|IP Address):/, ''))
      .filter((h) => h !== '' && (net.isIP(h) !== 0 || !h.includes(':')));
  } catch {
    return [];
  }
}

async function createCa(files: Paths): Promise<void> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(),
      name: `CN=identity-platform dev CA ${new Date(now).toISOString().slice(0, 10)}, O=identity-platform (development only)`,
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + CA_LIFETIME_MS),
      signingAlgorithm: ALG,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, subtleCrypto),
      ],
    },
    subtleCrypto,
  );
  writeAtomic(files.caKeyPath, await privateKeyPem(keys.privateKey), 0o600);
  writeAtomic(files.caCertPath, cert.toString('pem') + '\n', 0o644);
}

async function createServerCert(files: Paths, hosts: string[]): Promise<void> {
  const caCert = new x509.X509Certificate(fs.readFileSync(files.caCertPath, 'utf8'));
  const caKey = await webcrypto.subtle.importKey(
    'pkcs8',
    pemBody(fs.readFileSync(files.caKeyPath, 'utf8')),
    ALG,
    false,
    ['sign'],
  );
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      subject: 'CN=localhost, O=identity-platform (development only)',
      issuer: caCert.subject,
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + SERVER_LIFETIME_MS),
      signingAlgorithm: ALG,
      publicKey: keys.publicKey,
      signingKey: caKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
          true,
        ),
        new x509.ExtendedKeyUsageExtension([
          x509.ExtendedKeyUsage.serverAuth,
          x509.ExtendedKeyUsage.clientAuth,
        ]),
        new x509.SubjectAlternativeNameExtension(
          hosts.map((h) => ({ type: net.isIP(h) ? ('ip' as const) : ('dns' as const), value: h })),
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, subtleCrypto),
        await x509.AuthorityKeyIdentifierExtension.create(caCert, false, subtleCrypto),
      ],
    },
    subtleCrypto,
  );
  // Key first: a reader holding the lock never sees a cert without its key.
  writeAtomic(files.keyPath, await privateKeyPem(keys.privateKey), 0o600);
  writeAtomic(files.certPath, cert.toString('pem') + '\n', 0o644);
}

function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // a positive integer
  return Buffer.from(bytes).toString('hex');
}

async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

function pemBody(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

function writeAtomic(file: string, content: string, mode: number): void {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(tmp, content, { mode });
  fs.renameSync(tmp, file);
}

async function withLock<T>(lockDir: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // A crashed holder leaves the lock behind; generation takes seconds at most.
      try {
        if (Date.now() - fs.statSync(lockDir).mtimeMs > LOCK_STALE_MS)
          fs.rmSync(lockDir, { recursive: true, force: true });
      } catch {
        /* removed by someone else meanwhile */
      }
      if (Date.now() > deadline) throw new Error(`dev-ca: timed out waiting for lock ${lockDir}`);
      await sleep(50 + Math.random() * 100);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}
