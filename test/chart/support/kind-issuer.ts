// Plays kind's Kubernetes API server as a service-account token issuer: OIDC discovery and a
// JWKS over HTTPS with a certificate from the cluster's own CA (not the dev CA), and projected
// tokens shaped like the kubelet's. The stand-ins must trust it the way kind installs set up
// (k8s/kind/create-secrets.sh: federated credential + dev CA and cluster CA bundle).
import { createSign, generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';

export interface KindIssuer {
  /** e.g. https://localhost:PORT (kind: https://kubernetes.default.svc.cluster.local). */
  issuer: string;
  /** PEM of the cluster CA that signs the issuer's serving certificate. */
  clusterCaPem: string;
  /** A projected service-account token for `system:serviceaccount:<ns>:<sa>`. */
  token(ns: string, sa: string, audience: string): string;
  stop(): Promise<void>;
}

const b64url = (v: string | Buffer) => Buffer.from(v).toString('base64url');

export async function startKindIssuer(repoRoot: string, dir: string): Promise<KindIssuer> {
  // A CA of its own (scripts/dev-ca.mjs in another directory), as kind's cluster CA is.
  const caDir = join(dir, 'cluster-ca');
  const ensure = `import { ensureDevCa } from ${JSON.stringify(join(repoRoot, 'scripts', 'dev-ca.mjs'))}; await ensureDevCa({ dir: ${JSON.stringify(caDir)} });`;
  execFileSync(process.execPath, ['--input-type=module', '-e', ensure]);
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  let issuer = '';
  const server: Server = createServer({ cert: readFileSync(join(caDir, 'server.pem')), key: readFileSync(join(caDir, 'server.key.pem')) }, (req, res) => {
    const json = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    // The API server's paths; its jwks_uri names another address (kind: the node's :6443).
    if (req.url === '/.well-known/openid-configuration') {
      json({ issuer, jwks_uri: `${issuer.replace('localhost', '127.0.0.1')}/openid/v1/jwks`, response_types_supported: ['id_token'], subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['RS256'] });
    } else if (req.url === '/openid/v1/jwks') {
      json({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' }] });
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `https://localhost:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    clusterCaPem: readFileSync(join(caDir, 'ca.pem'), 'utf8'),
    token(ns, sa, audience) {
      const now = Math.floor(Date.now() / 1000);
      const header = b64url(JSON.stringify({ alg: 'RS256', kid }));
      const payload = b64url(
        JSON.stringify({
          iss: issuer,
          sub: `system:serviceaccount:${ns}:${sa}`,
          aud: [audience],
          iat: now,
          nbf: now,
          exp: now + 3600,
          'kubernetes.io': { namespace: ns, serviceaccount: { name: sa, uid: randomUUID() }, pod: { name: `${sa}-0`, uid: randomUUID() } },
        }),
      );
      const signature = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(privateKey);
      return `${header}.${payload}.${b64url(signature)}`;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
