// Plays kind's Kubernetes API server as a service-account token issuer: another dev-azure
// instance's cluster issuer (OIDC discovery, JWKS, kubelet-shaped projected tokens), served with
// a certificate from a CA of its own, as kind's cluster CA is, not the dev CA. The stand-ins must
// trust it the way kind installs set up (k8s/kind/create-secrets.sh: federated credential, and
// a trust bundle with the dev CA and the cluster CA).
import { ensureDevCa, startDevAzure, type DevAzure } from '@idp/dev-azure';
import { join } from 'node:path';

export interface KindIssuer {
  /** e.g. https://localhost:PORT/local/ (kind: https://kubernetes.default.svc.cluster.local). */
  issuer: string;
  /** PEM of the cluster CA that signs the issuer's serving certificate. */
  clusterCaPem: string;
  /** A projected service-account token for `system:serviceaccount:<ns>:<sa>`. */
  token(ns: string, sa: string, audience: string): string;
  stop(): Promise<void>;
}

export async function startKindIssuer(dir: string): Promise<KindIssuer> {
  const ca = await ensureDevCa({ dir: join(dir, 'cluster-ca') });
  const api: DevAzure = await startDevAzure({
    dataDir: join(dir, 'cluster-issuer'),
    keyVault: false,
    tls: { certPem: ca.certPem, keyPem: ca.keyPem, caPem: ca.caPem },
  });
  return {
    issuer: api.clusterIssuer.issuerUrl,
    clusterCaPem: ca.caPem,
    token: (ns, sa, audience) =>
      api.clusterIssuer.mintServiceAccountToken(ns, sa, { audiences: [audience] }),
    stop: () => api.stop(),
  };
}
