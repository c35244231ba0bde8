import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  b2cMetadataUrl,
  entraMetadataUrl,
  externalIdIssuer,
  externalIdMetadataUrl,
} from '../../src';
import type { TestKey } from './test-keys';

/**
 * A local stand-in for B2C / Entra / External ID discovery: per user flow (and one Entra
 * tenant, and External ID tenants) an OpenID metadata document and a JWKS, on 127.0.0.1
 * port 0. B2C flows share the issuer `{base}/{tenantId}/v2.0/` but have their own JWKS.
 * External ID tenants advertise their real issuer `https://{tid}.ciamlogin.com/{tid}/v2.0`
 * (an issuer is only compared, never fetched) and share one JWKS, like Entra's global keys.
 */
export class LocalIdp {
  readonly tenantName = 'contoso';
  readonly tenantId = randomUUID();
  /** The External ID tenant, and a second one whose tokens must never be accepted for it. */
  readonly ciamTenantId = randomUUID();
  readonly otherCiamTenantId = randomUUID();
  /** requests per path, e.g. for counting JWKS refetches. */
  readonly hits = new Map<string, number>();
  private readonly jwks = new Map<string, TestKey[]>();
  private overrides = new Map<string, () => { status: number; body: unknown }>();
  private server!: Server;
  private port = 0;

  static async start(): Promise<LocalIdp> {
    const idp = new LocalIdp();
    idp.server = createServer((req, res) => idp.handle(req, res));
    await new Promise<void>((resolve) => idp.server.listen(0, '127.0.0.1', resolve));
    idp.port = (idp.server.address() as AddressInfo).port;
    return idp;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  get base(): string {
    return `http://${this.host}`;
  }

  get b2cIssuer(): string {
    return `${this.base}/${this.tenantId}/v2.0/`;
  }

  get entraIssuer(): string {
    return `${this.base}/${this.tenantId}/v2.0`;
  }

  metadataUrl(flow: string): string {
    return b2cMetadataUrl({
      host: this.host,
      tenantName: this.tenantName,
      userFlow: flow,
      scheme: 'http',
    });
  }

  entraMetadataUrl(): string {
    return entraMetadataUrl({ host: this.host, tenantId: this.tenantId, scheme: 'http' });
  }

  ciamIssuer(tenantId = this.ciamTenantId): string {
    return externalIdIssuer({ tenantId });
  }

  ciamMetadataUrl(tenantId = this.ciamTenantId): string {
    return externalIdMetadataUrl({
      subdomain: 'contosoid',
      tenantId,
      host: this.host,
      scheme: 'http',
    });
  }

  ciamAuthorizeUrl(tenantId = this.ciamTenantId): string {
    return `${this.base}/${tenantId}/oauth2/v2.0/authorize`;
  }

  /**
   * The keys served in the JWKS of a B2C flow, of the Entra tenant with `'entra'`, or of
   * every External ID tenant with `'ciam'`.
   */
  setKeys(flowOrEntra: string, keys: TestKey[]): void {
    this.jwks.set(flowOrEntra.toLowerCase(), keys);
  }

  jwksPath(flowOrEntra: string): string {
    const f = flowOrEntra.toLowerCase();
    if (f === 'entra') return `/${this.tenantId}/discovery/v2.0/keys`;
    if (f === 'ciam') return '/ciam/discovery/v2.0/keys';
    return `/${this.tenantName}.onmicrosoft.com/${f}/discovery/v2.0/keys`;
  }

  jwksHits(flowOrEntra?: string): number {
    if (flowOrEntra) return this.hits.get(this.jwksPath(flowOrEntra)) ?? 0;
    let total = 0;
    for (const [path, n] of this.hits) if (path.endsWith('/discovery/v2.0/keys')) total += n;
    return total;
  }

  /** Replace the answer for a path (e.g. to serve a broken document). */
  override(path: string, answer: () => { status: number; body: unknown }): void {
    this.overrides.set(path, answer);
  }

  clearOverrides(): void {
    this.overrides = new Map();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', this.base).pathname.toLowerCase();
    this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const override = this.overrides.get(path);
    if (override) {
      const { status, body } = override();
      return send(status, body);
    }
    const tenant = `${this.tenantName}.onmicrosoft.com`;
    const b2c = new RegExp(
      `^/${tenant}/([^/]+)/(v2\\.0/\\.well-known/openid-configuration|discovery/v2\\.0/keys)$`,
    );
    const m = b2c.exec(path);
    if (m) {
      const flow = m[1] as string;
      if (!this.jwks.has(flow)) return send(404, { error: 'unknown user flow' });
      if (m[2]?.startsWith('v2.0')) {
        return send(200, {
          issuer: this.b2cIssuer,
          authorization_endpoint: `${this.base}/${tenant}/${flow}/oauth2/v2.0/authorize`,
          token_endpoint: `${this.base}/${tenant}/${flow}/oauth2/v2.0/token`,
          jwks_uri: `${this.base}${this.jwksPath(flow)}`,
          id_token_signing_alg_values_supported: ['RS256'],
        });
      }
      return send(200, { keys: (this.jwks.get(flow) ?? []).map((k) => k.publicJwk) });
    }
    if (path === `/${this.tenantId}/v2.0/.well-known/openid-configuration`) {
      return send(200, {
        issuer: this.entraIssuer,
        authorization_endpoint: `${this.base}/${this.tenantId}/oauth2/v2.0/authorize`,
        token_endpoint: `${this.base}/${this.tenantId}/oauth2/v2.0/token`,
        jwks_uri: `${this.base}${this.jwksPath('entra')}`,
      });
    }
    if (path === this.jwksPath('entra')) {
      return send(200, { keys: (this.jwks.get('entra') ?? []).map((k) => k.publicJwk) });
    }
    const ciamTenant = [this.ciamTenantId, this.otherCiamTenantId].find(
      (tid) => path === `/${tid}/v2.0/.well-known/openid-configuration`,
    );
    if (ciamTenant) {
      return send(200, {
        issuer: this.ciamIssuer(ciamTenant),
        authorization_endpoint: this.ciamAuthorizeUrl(ciamTenant),
        token_endpoint: `${this.base}/${ciamTenant}/oauth2/v2.0/token`,
        jwks_uri: `${this.base}${this.jwksPath('ciam')}`,
      });
    }
    if (path === this.jwksPath('ciam')) {
      return send(200, { keys: (this.jwks.get('ciam') ?? []).map((k) => k.publicJwk) });
    }
    send(404, { error: 'not found' });
  }
}
