// The dev CA (src/tls/dev-ca.ts) and its on-disk contract with scripts/dev-ca.mjs, which
// scripts/with-dev-ca.mjs runs: each reuses the CA and server certificate the other wrote.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureDevCa } from '../../src';

const run = promisify(execFile);
const script = path.resolve(__dirname, '..', '..', '..', 'scripts', 'with-dev-ca.mjs');
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ca-test-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('dev CA', () => {
  it('creates a CA and a localhost server certificate, then reuses them', async () => {
    const first = await ensureDevCa({ dir });
    const ca = new X509Certificate(first.caPem);
    const server = new X509Certificate(first.certPem);
    expect(ca.ca).toBe(true);
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkHost('localhost')).toBe('localhost');
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(server.checkIP('::1')).toBeDefined();
    expect(fs.statSync(first.keyPath).mode & 0o077).toBe(0);

    const again = await ensureDevCa({ dir });
    expect(again.certPem).toBe(first.certPem);
    expect(again.caPem).toBe(first.caPem);
  });

  it('reissues the server certificate (same CA) when a host is missing', async () => {
    const before = await ensureDevCa({ dir });
    const after = await ensureDevCa({ dir, hosts: ['api.dev.test'] });
    expect(after.caPem).toBe(before.caPem);
    expect(after.certPem).not.toBe(before.certPem);
    const cert = new X509Certificate(after.certPem);
    expect(cert.checkHost('api.dev.test')).toBe('api.dev.test');
    expect(cert.checkHost('localhost')).toBe('localhost');
  });

  it('with-dev-ca runs the command with NODE_EXTRA_CA_CERTS and forwards its exit code', async () => {
    const before = await ensureDevCa({ dir });
    const { NODE_EXTRA_CA_CERTS: _inherited, ...rest } = process.env;
    const env = { ...rest, DEV_CA_DIR: dir };
    const printCaFile = [
      script,
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
    const bundle = fs.readFileSync(both.stdout.trim(), 'utf8');
    expect(bundle).toContain(before.caPem.trim());
    expect(bundle).toContain('b3RoZXI=');
    // scripts/dev-ca.mjs reused what this package wrote.
    expect(fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8')).toBe(before.caPem);
    expect(fs.readFileSync(path.join(dir, 'server.pem'), 'utf8')).toBe(before.certPem);
    await expect(
      run(process.execPath, [script, process.execPath, '-e', 'process.exit(7)'], { env }),
    ).rejects.toMatchObject({ code: 7 });
  });

  it('reuses a CA and server certificate that scripts/dev-ca.mjs wrote', async () => {
    const fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ca-test-'));
    try {
      const env = { ...process.env, DEV_CA_DIR: fresh };
      await run(process.execPath, [script, process.execPath, '-e', ''], { env });
      const caPem = fs.readFileSync(path.join(fresh, 'ca.pem'), 'utf8');
      const certPem = fs.readFileSync(path.join(fresh, 'server.pem'), 'utf8');
      const ours = await ensureDevCa({ dir: fresh });
      expect(ours.caPem).toBe(caPem);
      expect(ours.certPem).toBe(certPem);
      expect(ours.keyPem).toBe(fs.readFileSync(path.join(fresh, 'server.key.pem'), 'utf8'));
    } finally {
      fs.rmSync(fresh, { recursive: true, force: true });
    }
  });
});
