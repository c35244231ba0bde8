// Certificates registered on apps by reference to a Key Vault certificate
// are fetched from the vault when an assertion needs them.
import type { X509Certificate } from 'node:crypto';

export interface CertificateResolver {
  /** Current and previous versions of the vault certificate `name` (public parts only). */
  resolve(name: string): Promise<X509Certificate[]>;
}
