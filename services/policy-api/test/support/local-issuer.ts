import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export const SIGN_IN_FLOW = 'B2C_1_signupsignin';
export const MFA_FLOW = 'B2C_1_signupsignin_mfa';
export const API_CLIENT_ID = '1d5a0a76-3f56-4b6a-a5fa-4dc21dbc0c05';
export const PORTAL_CLIENT_ID = 'ee83192a-329f-477d-922a-8241a2c16afb';
export const DAEMON_CLIENT_ID = 'aff97b82-4dc1-4009-95e5-cce46939e38a';

export interface UserTokenOptions {
  oid: string;
  flow?: string;
  scopes?: string[];
  /** Seconds since the epoch; default now. */
  authTime?: number;
  /** Put the flow in `acr` instead of `tfp` (B2C's other claim shape). */
  flowClaim?: 'tfp' | 'acr';
  audience?: string;
  /** B2C `emails` claim (mutable; must never select a policy). */
  emails?: string[];
}

export interface AppTokenOptions {
  roles?: string[];
  appId?: string;
  audience?: string;
}

/**
 * A small B2C/Entra issuer until dev-azure's identity stand-in is available: per user flow an
 * OpenID metadata document and JWKS (B2C issuer `{base}/{tenantId}/v2.0/`), plus the tenant's
 * v2.0 metadata for app-only tokens. Tokens carry B2C's claims (tfp, scp, oid, auth_time, ver 1.0).
 */
export class LocalIssuer {
  readonly tenantName = 'contoso';
  readonly tenantId = randomUUID();
  private server!: Server;
  private port = 0;
  private key!: CryptoKey;
  private jwk!: JWK;
  private readonly kid = randomUUID();
  private readonly flows = [SIGN_IN_FLOW, MFA_FLOW].map((f) => f.toLowerCase());

  static async start(): Promise<LocalIssuer> {
    const issuer = new LocalIssuer();
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    issuer.key = privateKey;
    issuer.jwk = { ...(await exportJWK(publicKey)), kid: issuer.kid, use: 'sig', alg: 'RS256' };
    issuer.server = createServer((req, res) => issuer.handle(req, res));
    await new Promise<void>((resolve) => issuer.server.listen(0, '127.0.0.1', resolve));
    issuer.port = (issuer.server.address() as AddressInfo).port;
    return issuer;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get issuer(): string {
    return `${this.base}/${this.tenantId}/v2.0/`;
  }

  b2cMetadataUrl(flow: string): string {
    return `${this.base}/${this.tenantName}.onmicrosoft.com/${flow.toLowerCase()}/v2.0/.well-known/openid-configuration`;
  }

  appMetadataUrl(): string {
    return `${this.base}/${this.tenantId}/v2.0/.well-known/openid-configuration`;
  }

  /** Environment for policy-api pointing at this issuer. */
  env(): Record<string, string> {
    return {
      B2C_IDENTITY_METADATA: this.flows.map((f) => this.b2cMetadataUrl(f)).join(','),
      APP_IDENTITY_METADATA: this.appMetadataUrl(),
      API_AUDIENCE: `${API_CLIENT_ID},api://policy-api`,
      AUTH_ALLOW_INSECURE_HTTP: 'true',
    };
  }

  async userToken(o: UserTokenOptions): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const flow = o.flow ?? SIGN_IN_FLOW;
    return new SignJWT({
      oid: o.oid,
      sub: o.oid,
      [o.flowClaim ?? 'tfp']: flow,
      scp: (o.scopes ?? ['Accounts.Read', 'Accounts.Write']).join(' '),
      azp: PORTAL_CLIENT_ID,
      ver: '1.0',
      auth_time: o.authTime ?? now,
      name: 'Test User',
      ...(o.emails ? { emails: o.emails } : {}),
    })
      .setProtectedHeader({ alg: 'RS256', kid: this.kid, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setAudience(o.audience ?? API_CLIENT_ID)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + 3600)
      .sign(this.key);
  }

  /** Any claims signed with this issuer's (B2C) key, e.g. to forge another provider's issuer. */
  sign(claims: Record<string, unknown>): Promise<string> {
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: this.kid, typ: 'JWT' })
      .sign(this.key);
  }

  async appToken(o: AppTokenOptions = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const appId = o.appId ?? DAEMON_CLIENT_ID;
    return new SignJWT({
      azp: appId,
      appid: appId,
      idtyp: 'app',
      oid: randomUUID(),
      sub: randomUUID(),
      tid: this.tenantId,
      ver: '2.0',
      ...(o.roles ? { roles: o.roles } : {}),
    })
      .setProtectedHeader({ alg: 'RS256', kid: this.kid, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setAudience(o.audience ?? API_CLIENT_ID)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + 3600)
      .sign(this.key);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', this.base).pathname.toLowerCase();
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const jwks = `${this.base}/${this.tenantId}/discovery/v2.0/keys`;
    const m =
      /^\/contoso\.onmicrosoft\.com\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(
        path,
      );
    if (m && this.flows.includes(m[1] as string)) {
      return send(200, {
        issuer: this.issuer,
        jwks_uri: jwks,
        token_endpoint: `${this.base}/${m[1]}/token`,
        id_token_signing_alg_values_supported: ['RS256'],
      });
    }
    if (path === `/${this.tenantId}/v2.0/.well-known/openid-configuration`) {
      return send(200, {
        issuer: this.issuer,
        jwks_uri: jwks,
        token_endpoint: `${this.base}/${this.tenantId}/oauth2/v2.0/token`,
      });
    }
    if (path === `/${this.tenantId}/discovery/v2.0/keys`) return send(200, { keys: [this.jwk] });
    send(404, { error: 'not found' });
  }
}
