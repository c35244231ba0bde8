// Public configuration of the Key Vault stand-in.

export type KeyVaultRole =
  | 'Key Vault Crypto User'
  | 'Key Vault Certificates Officer'
  | 'Key Vault Administrator'
  | 'Key Vault Reader';

export interface RoleAssignment {
  /** Matched against the token's appid, azp or oid claim. */
  principalId: string;
  role: KeyVaultRole;
  /** e.g. 'keys/policy-daemon' or 'certificates/x'; absent = whole vault. */
  scope?: string;
}

export interface SeedCertificate {
  name: string;
  /** X.500 subject, e.g. 'CN=policy-daemon'. */
  subject: string;
  /** Recorded in the policy as Azure would (default false); this vault never exports keys. */
  exportable?: boolean;
  /** RSA only: the broker signs PS256/RS256. */
  keyType?: 'RSA';
  keySize?: number;
}

export interface KeyVaultOptions {
  host: string;
  /** 0 = a free port. */
  port: number;
  tls: { certPem: string; keyPem: string };
  /** Holds the state file (private keys included, mode 0600). */
  dataDir: string;
  tenantId: string;
  /** Base URL of the identity provider, e.g. https://localhost:PORT (no trailing slash needed). */
  identityUrl: string;
  /** Where to read the tenant's signing keys when not at identityUrl (e.g. identityUrl is an ingress in front). */
  jwksBaseUrl?: string;
  /** Accepted `iss` values; default: {identityUrl}/{tenantId}/v2.0 and {identityUrl}/{tenantId}/, each with and without trailing slash. */
  trustedIssuers?: string[];
  roleAssignments: RoleAssignment[];
  /** Requests per second for the whole vault (token bucket); undefined = unlimited. */
  rateLimitPerSecond?: number;
  /** Certificates created at start if no certificate of that name exists yet. */
  seedCertificates?: SeedCertificate[];
}

export interface KeyVaultStats {
  /** Successful sign operations. */
  signCount: number;
  /** Every request received, refused ones included. */
  requestCount: number;
  /** Requests refused with 429. */
  throttledCount: number;
}

/** Public face of a certificate's current version (no key material). */
export interface PublicCertificate {
  name: string;
  version: string;
  der: Buffer;
  pem: string;
  /** base64url SHA-1 of the DER. */
  x5t: string;
  /** base64url SHA-256 of the DER. */
  x5tS256: string;
}

export interface KeyVaultHandle {
  url: string;
  stop(): Promise<void>;
  stats(): KeyVaultStats;
  setRateLimit(perSecond: number | undefined): void;
  /** In-process read of a certificate's current public certificate, e.g. for an identity stand-in that trusts it; undefined if absent. */
  certificate(name: string): PublicCertificate | undefined;
}
