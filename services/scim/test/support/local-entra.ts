import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

/** A local stand-in for an Entra ID tenant: OpenID metadata and a JWKS, and app-only tokens signed with its key. */
export class LocalEntra {
  readonly tenantId = randomUUID();
  private server!: Server;
  private key!: CryptoKey;
  private jwk!: JWK;
  private base = '';

  static async start(): Promise<LocalEntra> {
    const e = new LocalEntra();
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
    e.key = privateKey;
    e.jwk = { ...(await exportJWK(publicKey)), kid: 'k1', use: 'sig' };
    e.server = createServer((req, res) => {
      const send = (body: unknown) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.url === `/${e.tenantId}/v2.0/.well-known/openid-configuration`)
        return send({
          issuer: e.issuer,
          jwks_uri: `${e.base}/${e.tenantId}/discovery/v2.0/keys`,
          token_endpoint: `${e.base}/token`,
          authorization_endpoint: `${e.base}/authorize`,
        });
      if (req.url === `/${e.tenantId}/discovery/v2.0/keys`) return send({ keys: [e.jwk] });
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => e.server.listen(0, '127.0.0.1', r));
    e.base = `http://127.0.0.1:${(e.server.address() as AddressInfo).port}`;
    return e;
  }

  get issuer(): string {
    return `${this.base}/${this.tenantId}/v2.0`;
  }
  get metadataUrl(): string {
    return `${this.issuer}/.well-known/openid-configuration`;
  }

  /** An app-only (client credentials) access token with the given app roles. */
  appToken(audience: string, roles: string[]): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const oid = randomUUID();
    return new SignJWT({
      ver: '2.0',
      tid: this.tenantId,
      oid,
      sub: oid,
      azp: randomUUID(),
      azpacr: '2',
      idtyp: 'app',
      roles,
    })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: 'k1' })
      .setIssuer(this.issuer)
      .setAudience(audience)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + 3600)
      .sign(this.key);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
