// The OpenID metadata cache against an identity provider that is down: the portal reads a flow's
// issuer on every signed-in request (session hooks), so a failed fetch must not be retried by
// every request, each waiting for the timeout.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { B2cAuthority } from '../../src/auth/b2c-authority';
import { MetadataCache } from '../../src/auth/metadata-cache';
import { loadPortalConfig } from '../../src/config';
import { portalEnv } from '../support/portal-env';

let server: Server;
let hits = 0;
let up = false;

beforeAll(async () => {
  server = createServer((req, res) => {
    hits += 1;
    if (!up) {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        issuer: 'https://idp.example/tenant/v2.0/',
        authorization_endpoint: 'https://idp.example/authorize',
        token_endpoint: 'https://idp.example/token',
        jwks_uri: 'https://idp.example/keys',
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** A cache over the B2C authority whose metadata the local server above serves (plain HTTP). */
function localCache(): MetadataCache {
  const { port } = server.address() as AddressInfo;
  const config = loadPortalConfig({
    ...portalEnv(),
    DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db',
  });
  class LocalAuthority extends B2cAuthority {
    override metadataUrl(flow: string): string {
      return `http://127.0.0.1:${port}/${flow}/v2.0/.well-known/openid-configuration`;
    }
  }
  return new MetadataCache(new LocalAuthority(config));
}

it('remembers a failed fetch for a while: the next requests fail at once, without a request each', async () => {
  const cache = localCache();
  await expect(cache.get('B2C_1_signupsignin')).rejects.toThrow(/HTTP 503/);
  up = true;
  await expect(cache.get('B2C_1_signupsignin')).rejects.toThrow(/HTTP 503/);
  expect(hits).toBe(1);
  // Another flow is its own entry.
  expect((await cache.get('B2C_1_profileedit')).meta.issuer).toBe(
    'https://idp.example/tenant/v2.0/',
  );
  expect(hits).toBe(2);
});

it('fetches once for requests that all find no copy at the same time', async () => {
  const cache = localCache();
  up = true;
  const before = hits;
  const all = await Promise.all(
    Array.from({ length: 10 }, () => cache.get('B2C_1_signupsignin_mfa')),
  );
  expect(all.every((e) => e.meta.issuer === 'https://idp.example/tenant/v2.0/')).toBe(true);
  expect(hits - before).toBe(1);
});
