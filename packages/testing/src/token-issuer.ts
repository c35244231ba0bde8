// One local token issuer for every test that needs Azure-shaped access tokens: B2C user flows,
// an Entra ID tenant (v1/v2 app-only tokens) and Entra External ID tenants, each with its OpenID
// metadata document and JWKS over HTTP on 127.0.0.1 (a free port), in this process.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  appClaims,
  appClaimsV1,
  b2cUserClaims,
  ciamUserClaims,
  type ClaimsInput,
} from './token-claims';
import { TestKey, type Claims, type TestAlg } from './token-keys';

/**
 * Whose keys: a B2C user flow by name (case-insensitive), `'entra'` (the Entra tenant, v1 and
 * v2 tokens) or `'ciam'` (every External ID tenant: one JWKS, like Entra's global keys).
 */
export type Realm = 'entra' | 'ciam' | (string & {});

export interface TokenIssuerOptions {
  /** B2C tenant name (`{name}.onmicrosoft.com`); default `contoso`. */
  tenantName?: string;
  /** B2C user flows served even without their own keys (they use the default key). */
  flows?: string[];
  /** `aud` of minted tokens unless given; default `api://test-api`. */
  audience?: string | string[];
}

export interface SignOptions {
  /** Sign with this key instead of the realm's first (e.g. an unpublished or rotated-out key). */
  key?: TestKey;
  /** Header fields to add or replace (e.g. another `kid`). */
  header?: Record<string, unknown>;
}

type Optional<T> = Partial<ClaimsInput<T>>;
export type B2cTokenClaims = Optional<{ flow?: string; scp?: string }>;
export type CiamTokenClaims = Optional<{ tid?: string; scp?: string }>;
export type AppTokenClaims = Optional<{ tid?: string; roles?: string[] }> & { ver?: '1.0' | '2.0' };

export const DEFAULT_B2C_FLOWS = ['B2C_1_signupsignin', 'B2C_1_signupsignin_mfa'];

type Answer = { status: number; body: unknown };

export class TokenIssuer {
  readonly tenantName: string;
  /** The B2C and Entra tenant. */
  readonly tenantId = randomUUID();
  /** The External ID tenant, and a second one whose tokens must never be accepted for it. */
  readonly ciamTenantId = randomUUID();
  readonly otherCiamTenantId = randomUUID();
  readonly audience: string | string[];
  /** Requests per (lower-cased) path, e.g. to count JWKS refetches. */
  readonly hits = new Map<string, number>();
  private readonly keySets = new Map<string, TestKey[]>();
  private readonly flows: Set<string>;
  private overrides = new Map<string, () => Answer>();
  private port = 0;

  private constructor(
    private readonly server: Server,
    /** Signs for every realm that has no keys of its own. */
    readonly defaultKey: TestKey,
    o: TokenIssuerOptions,
  ) {
    this.tenantName = o.tenantName ?? 'contoso';
    this.audience = o.audience ?? 'api://test-api';
    this.flows = new Set((o.flows ?? DEFAULT_B2C_FLOWS).map((f) => f.toLowerCase()));
  }

  static async start(o: TokenIssuerOptions = {}): Promise<TokenIssuer> {
    const server = createServer();
    const issuer = new TokenIssuer(server, await TestKey.generate(`default-${randomUUID()}`), o);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => issuer.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer.port = (server.address() as AddressInfo).port;
    return issuer;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // --- addresses -------------------------------------------------------------------------

  /** `127.0.0.1:{port}` */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  get base(): string {
    return `http://${this.host}`;
  }

  /** B2C: `{base}/{tenantId}/v2.0/` (trailing slash), shared by every user flow. */
  get b2cIssuer(): string {
    return `${this.base}/${this.tenantId}/v2.0/`;
  }

  /** Entra v2: `{base}/{tenantId}/v2.0`, the issuer its metadata advertises. */
  get entraIssuer(): string {
    return `${this.base}/${this.tenantId}/v2.0`;
  }

  /** Entra v1: `https://sts.windows.net/{tenantId}/` (not advertised: configure it explicitly). */
  get entraV1Issuer(): string {
    return `https://sts.windows.net/${this.tenantId}/`;
  }

  /** External ID: `https://{tid}.ciamlogin.com/{tid}/v2.0` (only compared, never fetched). */
  ciamIssuer(tenantId: string = this.ciamTenantId): string {
    const tid = tenantId.toLowerCase();
    return `https://${tid}.ciamlogin.com/${tid}/v2.0`;
  }

  b2cMetadataUrl(flow: string): string {
    return `${this.base}/${this.tenantName}.onmicrosoft.com/${flow.toLowerCase()}/v2.0/.well-known/openid-configuration`;
  }

  entraMetadataUrl(): string {
    return `${this.base}/${this.tenantId}/v2.0/.well-known/openid-configuration`;
  }

  /** Served for `ciamTenantId` and `otherCiamTenantId` (any other tenant: 404). */
  ciamMetadataUrl(tenantId: string = this.ciamTenantId): string {
    return `${this.base}/${tenantId}/v2.0/.well-known/openid-configuration`;
  }

  ciamAuthorizeUrl(tenantId: string = this.ciamTenantId): string {
    return `${this.base}/${tenantId}/oauth2/v2.0/authorize`;
  }

  jwksPath(realm: Realm): string {
    const r = realm.toLowerCase();
    if (r === 'entra') return `/${this.tenantId}/discovery/v2.0/keys`;
    if (r === 'ciam') return '/ciam/discovery/v2.0/keys';
    return `/${this.tenantName}.onmicrosoft.com/${r}/discovery/v2.0/keys`;
  }

  /** JWKS requests of one realm, or of all. */
  jwksHits(realm?: Realm): number {
    if (realm) return this.hits.get(this.jwksPath(realm).toLowerCase()) ?? 0;
    let total = 0;
    for (const [path, n] of this.hits) if (path.endsWith('/discovery/v2.0/keys')) total += n;
    return total;
  }

  // --- keys ------------------------------------------------------------------------------

  /** The keys a realm's JWKS publishes; the first one signs. A B2C flow given keys is served. */
  setKeys(realm: Realm, keys: TestKey[]): void {
    this.keySets.set(realm.toLowerCase(), keys);
  }

  keys(realm: Realm): TestKey[] {
    return this.keySets.get(realm.toLowerCase()) ?? [this.defaultKey];
  }

  /** The key that signs for a realm. */
  signingKey(realm: Realm): TestKey {
    return this.keys(realm)[0] ?? this.defaultKey;
  }

  /**
   * Key rotation: a new key signs from now on; the old ones stay published unless `keep` is
   * false (then tokens they signed fail with an unknown kid once the JWKS is refetched).
   */
  async rotateKey(realm: Realm, o: { alg?: TestAlg; keep?: boolean } = {}): Promise<TestKey> {
    const key = await TestKey.generate(`${realm.toLowerCase()}-${randomUUID()}`, o.alg);
    this.setKeys(realm, o.keep === false ? [key] : [key, ...this.keys(realm)]);
    return key;
  }

  // --- tokens ----------------------------------------------------------------------------

  /** Signs exactly these claims with the realm's signing key (or `o.key`). */
  sign(realm: Realm, claims: Claims, o: SignOptions = {}): Promise<string> {
    return (o.key ?? this.signingKey(realm)).sign(claims, o.header);
  }

  /** A B2C user token (ver 1.0, `tfp`) of a flow (default `B2C_1_signupsignin`), its flow's key. */
  b2cToken(claims: B2cTokenClaims = {}, o: SignOptions = {}): Promise<string> {
    const c = b2cUserClaims({ iss: this.b2cIssuer, aud: this.audience, ...claims });
    return this.sign(claims.flow ?? 'B2C_1_signupsignin', c, o);
  }

  /** An External ID user token (ver 2.0, `tid`; add `acrs`, `xms_cc` as claims), `'ciam'` key. */
  ciamToken(claims: CiamTokenClaims = {}, o: SignOptions = {}): Promise<string> {
    const tid = claims.tid ?? this.ciamTenantId;
    const c = ciamUserClaims({ iss: this.ciamIssuer(tid), aud: this.audience, ...claims, tid });
    return this.sign('ciam', c, o);
  }

  /**
   * An Entra app-only token with `roles` (default `Policies.Read.All`): v2 (`azp`, issuer
   * `entraIssuer`) unless `ver: '1.0'` (`appid`, issuer `entraV1Issuer`). `'entra'` key.
   */
  appToken(claims: AppTokenClaims = {}, o: SignOptions = {}): Promise<string> {
    const { ver = '2.0', ...rest } = claims;
    const input = {
      iss: ver === '1.0' ? this.entraV1Issuer : this.entraIssuer,
      aud: this.audience,
      ...rest,
      tid: rest.tid ?? this.tenantId,
    };
    return this.sign('entra', ver === '1.0' ? appClaimsV1(input) : appClaims(input), o);
  }

  // --- HTTP ------------------------------------------------------------------------------

  /** Replace the answer for a path (e.g. to serve a broken document). */
  override(path: string, answer: () => Answer): void {
    this.overrides.set(path.toLowerCase(), answer);
  }

  clearOverrides(): void {
    this.overrides = new Map();
  }

  private jwks(realm: Realm): { keys: unknown[] } {
    return { keys: this.keys(realm).map((k) => k.publicJwk) };
  }

  private metadata(issuer: string, prefix: string, realm: Realm): Record<string, unknown> {
    return {
      issuer,
      authorization_endpoint: `${this.base}${prefix}/oauth2/v2.0/authorize`,
      token_endpoint: `${this.base}${prefix}/oauth2/v2.0/token`,
      jwks_uri: `${this.base}${this.jwksPath(realm)}`,
      id_token_signing_alg_values_supported: ['RS256'],
    };
  }

  private answer(path: string): Answer {
    const override = this.overrides.get(path);
    if (override) return override();
    const ok = (body: unknown): Answer => ({ status: 200, body });
    const tenant = `${this.tenantName}.onmicrosoft.com`.toLowerCase();
    const b2c =
      /^\/([^/]+)\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|discovery\/v2\.0\/keys)$/.exec(
        path,
      );
    if (b2c?.[1] === tenant && b2c[2]) {
      const flow = b2c[2];
      if (!this.flows.has(flow) && !this.keySets.has(flow)) {
        return { status: 404, body: { error: 'unknown user flow' } };
      }
      return b2c[3]?.startsWith('v2.0')
        ? ok(this.metadata(this.b2cIssuer, `/${tenant}/${flow}`, flow))
        : ok(this.jwks(flow));
    }
    if (path === this.jwksPath('entra')) return ok(this.jwks('entra'));
    if (path === this.jwksPath('ciam')) return ok(this.jwks('ciam'));
    const meta = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(path);
    const tid = meta?.[1];
    if (tid === this.tenantId) return ok(this.metadata(this.entraIssuer, `/${tid}`, 'entra'));
    if (tid === this.ciamTenantId || tid === this.otherCiamTenantId) {
      return ok(this.metadata(this.ciamIssuer(tid), `/${tid}`, 'ciam'));
    }
    return { status: 404, body: { error: 'not found' } };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', this.base).pathname.toLowerCase();
    this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
    const { status, body } = this.answer(path);
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }
}
