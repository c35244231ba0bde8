// Local stand-in for a Kubernetes (AKS) service-account issuer: publishes
// OIDC metadata + JWKS and mints projected service-account tokens into a
// file, refreshed before expiry as the kubelet does, so workloads run with
// AZURE_FEDERATED_TOKEN_FILE exactly as on AKS.
import fs from 'node:fs';
import path from 'node:path';
import { nowSeconds, newGuid, sha256 } from '../../util/encoding';
import type { KeyRing } from '../keys/key-ring';

export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';
const TOKEN_LIFETIME_SECONDS = 3600;
/** Rewrite the file at 80% of the token's life, like the kubelet. */
const REFRESH_AT = 0.8;

export interface MintOptions {
  audiences?: string[];
  lifetimeSeconds?: number;
  podName?: string;
}

export class ClusterIssuers {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly names: string[],
    private readonly keys: KeyRing,
    private readonly baseUrl: () => string,
  ) {}

  static keyId(name: string): string {
    return `cluster:${name}`;
  }

  async init(): Promise<void> {
    for (const n of this.names) await this.keys.ensure(ClusterIssuers.keyId(n));
  }

  has(name: string): boolean {
    return this.names.includes(name);
  }

  /** AKS-style issuer URL (with trailing slash); federated credentials must name it exactly. */
  issuerUrl(name: string): string | undefined {
    return this.has(name) ? `${this.baseUrl()}/${name}/` : undefined;
  }

  metadata(name: string): Record<string, unknown> {
    const issuer = this.issuerUrl(name);
    return {
      issuer,
      jwks_uri: `${this.baseUrl()}/${name}/openid/v1/jwks`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    };
  }

  jwks(name: string): unknown {
    return this.keys.jwks(ClusterIssuers.keyId(name));
  }

  /** A projected service-account token for namespace/serviceAccount. */
  mint(name: string, namespace: string, serviceAccount: string, o: MintOptions = {}): string {
    const issuer = this.issuerUrl(name);
    if (!issuer) throw new Error(`unknown cluster issuer ${name}`);
    const now = nowSeconds();
    const podName =
      o.podName ??
      `${serviceAccount}-${sha256(`${namespace}/${serviceAccount}`).toString('hex').slice(0, 10)}`;
    const claims = {
      aud: o.audiences ?? [TOKEN_EXCHANGE_AUDIENCE],
      exp: now + (o.lifetimeSeconds ?? TOKEN_LIFETIME_SECONDS),
      iat: now,
      iss: issuer,
      jti: newGuid(),
      'kubernetes.io': {
        namespace,
        node: { name: 'local-node', uid: stableUid(`node/${name}`) },
        pod: { name: podName, uid: stableUid(`pod/${namespace}/${podName}`) },
        serviceaccount: {
          name: serviceAccount,
          uid: stableUid(`sa/${namespace}/${serviceAccount}`),
        },
      },
      nbf: now,
      sub: `system:serviceaccount:${namespace}:${serviceAccount}`,
    };
    // Kubernetes puts only alg and kid in the header.
    return this.keys.sign(ClusterIssuers.keyId(name), claims, { typ: undefined });
  }

  /** Writes a token to `file` (atomically) and keeps it fresh until stop(). */
  async writeToken(
    name: string,
    file: string,
    namespace: string,
    serviceAccount: string,
    o: MintOptions = {},
  ): Promise<void> {
    const token = this.mint(name, namespace, serviceAccount, o);
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await fs.promises.writeFile(tmp, token, { mode: 0o600 });
    await fs.promises.rename(tmp, file);
    clearTimeout(this.timers.get(file));
    const delay = Math.floor((o.lifetimeSeconds ?? TOKEN_LIFETIME_SECONDS) * REFRESH_AT * 1000);
    const timer = setTimeout(() => {
      this.writeToken(name, file, namespace, serviceAccount, o).catch((err: Error) => {
        console.error(`dev-azure: cannot refresh service-account token file: ${err.message}`);
      });
    }, delay);
    timer.unref();
    this.timers.set(file, timer);
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}

/** Deterministic uid-looking GUID so restarts keep the same object uids. */
function stableUid(seed: string): string {
  const h = sha256(seed).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
