// Types of index.cjs (plain CommonJS, so scripts/ can load it before any build).

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

/** Ensures the dev CA and a server certificate covering `hosts` exist, and returns them. */
export function ensureDevCa(options?: DevCaOptions): Promise<DevCaFiles>;

/**
 * The file to give children as NODE_EXTRA_CA_CERTS: the dev CA's certificate, or a bundle of it
 * and the CA file `env.NODE_EXTRA_CA_CERTS` already names.
 */
export function extraCaCerts(caCertPath: string, env?: NodeJS.ProcessEnv): string;
