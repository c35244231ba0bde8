// The identity provider's token endpoint accepting connections but never answering (overloaded,
// a stuck proxy): the portal answers within its timeout with a "not available" page, for the code
// redemption of a sign-in and for a token renewal, instead of holding the request for minutes.
// The B2C stand-in sits behind a small HTTPS proxy that can stop answering token requests.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import {
  expectPage,
  expectRedirect,
  HttpBrowser,
} from '../../../../dev-azure/test/support/http-browser';
import { SessionStore } from '../../src/session/session-store';
import { B2C_ALICE } from '../support/b2c-sign-in';
import { cookieJarClient } from '../support/portal-client';
import { portalEnv } from '../support/portal-env';
import { usePortalStack } from '../support/portal-stack';
import { startRecordingApi } from '../support/recording-api';
import { ageCache, expireAccessTokens } from '../support/token-cache';

jest.setTimeout(30_000);

/** How long the portal waits for the identity provider's token endpoint (msal-network.ts). */
const TOKEN_TIMEOUT_MS = 10_000;

let proxy: Server;
let proxyUrl = '';
let target = '';
let hang = false;
const held = new Set<{ destroy(): void }>();

beforeAll(async () => {
  const caDir = dirname(process.env.NODE_EXTRA_CA_CERTS ?? '');
  proxy = createServer(
    {
      cert: readFileSync(join(caDir, 'server.pem')),
      key: readFileSync(join(caDir, 'server.key.pem')),
    },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (hang && req.method === 'POST' && /\/token(?:\?|$)/.test(req.url ?? '')) {
          held.add(res.socket!); // accepted, never answered
          return;
        }
        void (async () => {
          const r = await fetch(`${target}${req.url}`, {
            method: req.method,
            headers: { 'content-type': req.headers['content-type'] ?? 'text/plain' },
            ...(req.method === 'POST' ? { body: Buffer.concat(chunks) } : {}),
          });
          let body = await r.text();
          // The metadata sends token requests here; everything else stays with the stand-in.
          if (/openid-configuration$/.test(req.url ?? '')) {
            const meta = JSON.parse(body) as { token_endpoint: string };
            meta.token_endpoint = meta.token_endpoint.replace(target, proxyUrl);
            body = JSON.stringify(meta);
          }
          res.writeHead(r.status, {
            'content-type': r.headers.get('content-type') ?? 'text/plain',
          });
          res.end(body);
        })();
      });
    },
  );
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyUrl = `https://localhost:${(proxy.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const s of held) s.destroy();
  await new Promise((r) => proxy?.close(r));
});

const stack = usePortalStack({
  startApi: () =>
    startRecordingApi({
      policy: { policyNumber: 'PN0000000031' },
      record: () => ({}),
      gate: () => undefined,
    }),
  env: (identityUrl, apiUrl) => {
    target = identityUrl;
    return portalEnv({ b2cHost: proxyUrl, policyApiUrl: apiUrl });
  },
});
const jar = cookieJarClient(() => stack.portal);

/** Signs in through the stand-in; returns the portal's answer to the callback and how long it took. */
async function signIn() {
  const b2c = new HttpBrowser(stack.azure.identityUrl);
  const page = expectPage(
    await b2c.open(String((await jar.get('/auth/sign-in')).headers.location)),
  );
  const back = expectRedirect(await b2c.submit(page, B2C_ALICE));
  const started = Date.now();
  const res = await jar.get(`${back.pathname}${back.search}`);
  return { res, ms: Date.now() - started };
}

function expectUnavailable(res: { statusCode: number; body: string }, ms: number) {
  expect(res.statusCode).toBe(502);
  expect(res.body).toContain('is not available right now');
  expect(ms).toBeLessThan(TOKEN_TIMEOUT_MS + 5_000);
}

it('signs in while the token endpoint answers', async () => {
  const { res } = await signIn();
  expect([res.statusCode, res.headers.location]).toEqual([303, '/']);
  expect((await jar.get('/policy')).statusCode).toBe(200);
});

it('a token renewal the provider never answers is a 502 page within the timeout', async () => {
  await ageCache(stack.portal.app.get(SessionStore), jar.cookie(), expireAccessTokens);
  hang = true;
  const started = Date.now();
  const res = await jar.get('/policy');
  expectUnavailable(res, Date.now() - started);
  expect(held.size).toBeGreaterThan(0); // it did reach the token endpoint
});

it('a code redemption the provider never answers is a 502 page within the timeout', async () => {
  const { res, ms } = await signIn();
  expectUnavailable(res, ms);
  hang = false;
  // The provider is back: signing in works again.
  expect((await signIn()).res.statusCode).toBe(303);
});
