// The local development certificate authority, generated once and reused: a CA and a server
// certificate it signs for localhost (plus any extra names callers ask for), so the dev stand-ins
// speak HTTPS and Node clients trust them through NODE_EXTRA_CA_CERTS.
//
// The one implementation: scripts/dev-ca.mjs re-exports it for `npm run up`, with-dev-ca, the
// test runner, the kind setup and the benchmarks (which run before any build, hence plain
// CommonJS that ESM can import, no TypeScript), and @idp/dev-azure requires it as @idp/dev-ca.
// On disk:
//   <dir>/ca.pem, ca.key.pem          CA certificate (PEM, 0644) and PKCS#8 key (0600)
//   <dir>/server.pem, server.key.pem  server certificate (PEM, 0644) and PKCS#8 key (0600)
//   <dir>/.lock                       a directory held while generating (stale after 30 s)
//   <dir>/ca-and-inherited.pem        written by extraCaCerts() only
// <dir> is `dir`, else $DEV_CA_DIR, else <repo>/.dev/ca (git-ignored). RSA 2048 / SHA-256
// throughout; the CA lives 10 years and the server certificate 1; either is reissued when it
// expires within 30 days, the server certificate also when it lacks a requested name (same CA,
// keeping the names an earlier caller asked for).
'use strict';

require('reflect-metadata'); // @peculiar/x509 (tsyringe) needs the Reflect polyfill loaded first
const x509 = require('@peculiar/x509');
const { Buffer } = require('node:buffer');
const { webcrypto, X509Certificate: NodeX509 } = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');

/** <repo>/.dev/ca; src/ and dist/ sit at the same depth below the repository. */
const defaultCaDir = path.resolve(__dirname, '..', '..', '..', '.dev', 'ca');

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
// Passed explicitly so the process-wide @peculiar/x509 provider stays untouched.
const subtleCrypto = webcrypto;

/**
 * @typedef {{ caCertPath: string, caKeyPath: string, certPath: string, keyPath: string }} Paths
 * @typedef {import('./index').DevCaFiles} DevCaFiles
 * @typedef {import('./index').DevCaOptions} DevCaOptions
 */

/**
 * Ensures the dev CA and a server certificate covering `hosts` exist, and returns them.
 * @param {DevCaOptions} [options]
 * @returns {Promise<DevCaFiles>}
 */
async function ensureDevCa(options = {}) {
  const dir = path.resolve(options.dir ?? process.env.DEV_CA_DIR ?? defaultCaDir);
  const hosts = unique([...DEFAULT_HOSTS, ...(options.hosts ?? [])]);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  /** @type {Paths} */
  const files = {
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

/**
 * The file to give children as NODE_EXTRA_CA_CERTS: the dev CA, plus the file this environment
 * already named there (e.g. a TLS-inspecting proxy's CA, which npm and registry fetches in the tests
 * still need). Node reads a single file, so the two are written together beside the dev CA.
 * @param {string} caCertPath
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {string}
 */
function extraCaCerts(caCertPath, env = process.env) {
  const inheritedPath = env.NODE_EXTRA_CA_CERTS;
  const bundle = path.join(path.dirname(caCertPath), 'ca-and-inherited.pem');
  if (!inheritedPath) return caCertPath;
  const inheritedFile = path.resolve(inheritedPath);
  // Already ours (a nested with-dev-ca or test run).
  if (inheritedFile === path.resolve(caCertPath) || inheritedFile === bundle) return inheritedFile;
  let inherited;
  try {
    inherited = fs.readFileSync(inheritedFile, 'utf8');
  } catch {
    return caCertPath;
  }
  writeAtomic(bundle, `${fs.readFileSync(caCertPath, 'utf8').trimEnd()}\n${inherited}`, 0o644);
  return bundle;
}

/**
 * @param {string[]} values
 * @returns {string[]}
 */
function unique(values) {
  return [...new Set(values.map((v) => normalizeHost(String(v).trim())).filter(Boolean))];
}

/**
 * @param {string} h
 * @returns {string}
 */
function normalizeHost(h) {
  return net.isIP(h) === 6 ? new URL(`http://[${h}]`).hostname.slice(1, -1) : h.toLowerCase();
}

/**
 * True when the PEM at `file` parses, is not about to expire, covers `hosts` and (optionally) chains to the CA.
 * @param {string} file
 * @param {string[]} hosts
 * @param {boolean} isCa
 * @param {string} [caFile]
 * @returns {boolean}
 */
function usableCert(file, hosts, isCa, caFile) {
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

/**
 * @param {string} file
 * @returns {string[]}
 */
function existingHosts(file) {
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

/**
 * @param {Paths} files
 * @returns {Promise<void>}
 */
async function createCa(files) {
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

/**
 * @param {Paths} files
 * @param {string[]} hosts
 * @returns {Promise<void>}
 */
async function createServerCert(files, hosts) {
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
          hosts.map((h) => ({ type: net.isIP(h) ? 'ip' : 'dns', value: h })),
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

/** @returns {string} */
function randomSerial() {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // a positive integer
  return Buffer.from(bytes).toString('hex');
}

/**
 * @param {webcrypto.CryptoKey} key
 * @returns {Promise<string>}
 */
async function privateKeyPem(key) {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

/**
 * @param {string} pem
 * @returns {Buffer}
 */
function pemBody(pem) {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

/**
 * @param {string} file
 * @param {string} content
 * @param {number} mode
 */
function writeAtomic(file, content, mode) {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(tmp, content, { mode });
  fs.renameSync(tmp, file);
}

/**
 * Runs `fn` holding `lockDir` (mkdir is atomic): waits for another holder up to 60 s, and takes
 * over a lock older than 30 s (a crashed holder's).
 * @template T
 * @param {string} lockDir
 * @param {() => Promise<T>} fn
 * @returns {Promise<T>}
 */
async function withLock(lockDir, fn) {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      break;
    } catch (err) {
      if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'EEXIST') throw err;
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

module.exports = { ensureDevCa, extraCaCerts };
