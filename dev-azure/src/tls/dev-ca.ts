// Typed access to scripts/dev-ca.mjs (plain ESM shared with the repo's
// scripts), which generates and reuses the local development CA.
import path from 'node:path';

export interface DevCaFiles {
  caCertPath: string;
  certPath: string;
  keyPath: string;
  caPem: string;
  certPem: string;
  keyPem: string;
}

interface DevCaModule {
  ensureDevCa(options?: { dir?: string; hosts?: string[] }): Promise<DevCaFiles>;
}

/** <repo>/scripts/dev-ca.mjs; src/tls and dist/tls sit at the same depth. */
const script = path.resolve(__dirname, '..', '..', '..', 'scripts', 'dev-ca.mjs');

export async function ensureDevCa(
  options: { dir?: string; hosts?: string[] } = {},
): Promise<DevCaFiles> {
  // A variable specifier: the script has no type declarations.
  const mod = (await import(script)) as DevCaModule;
  return mod.ensureDevCa(options);
}
