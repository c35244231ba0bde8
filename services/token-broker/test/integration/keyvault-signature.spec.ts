// What Key Vault returns is checked before it is used: the real SDK talks to the vault stand-in
// through a proxy that can spoil a sign exchange (garbage, another algorithm, a signature the
// vault says another key or another vault's key made) or a certificate read (a key id of
// another vault, where the sign request and the broker's Key Vault token would go).
import { ensureDevCa } from '@idp/dev-ca';
import { request, tokensAcquireSubject, TokensAcquire } from '@idp/contracts';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { POLICY_SCOPE } from '../support/seed';
import {
  startInProcessBroker,
  startStack,
  type InProcessBroker,
  type Stack,
} from '../support/stack';

type Spoil = {
  request?: (body: string) => string;
  response?: (body: string) => string;
  /** Which exchange: the next sign (default) or the next certificate read. */
  on?: 'sign' | 'certificate';
};

/** A TLS proxy in front of the vault; `spoilNext` changes the next sign exchanges. */
async function startVaultProxy(target: string) {
  const ca = await ensureDevCa();
  const spoils: Spoil[] = [];
  const server: Server = createServer({ cert: ca.certPem, key: ca.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const on = /\/sign(\?|$)/.test(req.url ?? '')
          ? 'sign'
          : /^\/certificates\//.test(req.url ?? '') && req.method === 'GET'
            ? 'certificate'
            : undefined;
        const at = spoils.findIndex((s) => (s.on ?? 'sign') === on);
        const spoil = on && at >= 0 ? spoils.splice(at, 1)[0] : undefined;
        let body = Buffer.concat(chunks).toString();
        if (spoil?.request) body = spoil.request(body);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers))
          if (typeof v === 'string' && !['host', 'content-length', 'connection'].includes(k))
            headers[k] = v;
        const upstream = await fetch(`${target}${req.url ?? '/'}`, {
          method: req.method,
          headers,
          ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body }),
        });
        // Key ids name the vault: point them at the proxy, so signing goes through it too.
        let text = (await upstream.text()).replaceAll(target, self());
        if (spoil?.response && upstream.ok) text = spoil.response(text);
        const out: Record<string, string> = {};
        upstream.headers.forEach((v, k) => {
          if (
            !['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(k)
          )
            out[k] = v;
        });
        res.writeHead(upstream.status, out);
        res.end(text);
      })().catch(() => {
        res.writeHead(502);
        res.end();
      });
    });
  });
  const self = () => `https://localhost:${(server.address() as AddressInfo).port}`;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: self(),
    spoilNext: (s: Spoil) => spoils.push(s),
    pending: () => spoils.length,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('Key Vault signatures are verified before they are presented', () => {
  let stack: Stack;
  let broker: InProcessBroker;
  let proxy: Awaited<ReturnType<typeof startVaultProxy>>;
  const HOUR = 3600_000;
  const acquire = async () =>
    request(
      await stack.connectAs('policy-reader'),
      TokensAcquire,
      { registration: 'policy-daemon', scope: POLICY_SCOPE },
      { subject: tokensAcquireSubject('policy-reader'), timeout: 20000 },
    );

  beforeAll(async () => {
    stack = await startStack();
    proxy = await startVaultProxy(stack.dev.keyVaultUrl);
    broker = await startInProcessBroker(stack, { env: { KEY_VAULT_URL: proxy.url } });
  }, 90000);

  afterAll(async () => {
    await broker?.stop();
    await proxy?.close();
    await stack?.stop();
  });

  it('retries a sign whose result does not verify (garbage, or made with another algorithm) without sending it to Entra', async () => {
    const garbage = (text: string) => {
      const r = JSON.parse(text) as { value: string };
      const sig = Buffer.from(r.value, 'base64url');
      sig[10] = (sig[10] ?? 0) ^ 0xff;
      return JSON.stringify({ ...r, value: sig.toString('base64url') });
    };
    const otherAlgorithm = (text: string) => text.replace('"PS256"', '"RS256"');
    for (const spoil of [{ response: garbage }, { request: otherAlgorithm }]) {
      broker.advance(2 * HOUR);
      const calls = broker.tap.calls;
      const retries = broker.sleeps.length;
      proxy.spoilNext(spoil);
      expect(await acquire()).toMatchObject({ ok: true });
      expect(proxy.pending()).toBe(0);
      // Only the good assertion reached the token endpoint; the bad one cost a retry.
      expect(broker.tap.calls - calls).toBe(1);
      expect(broker.sleeps.length - retries).toBe(1);
    }
  });

  it('retries a sign whose answer names another key or another vault (the kid of the response), without sending it to Entra', async () => {
    const kidTo = (rewrite: (kid: URL) => void) => (text: string) => {
      const r = JSON.parse(text) as { kid: string };
      const kid = new URL(r.kid);
      rewrite(kid);
      return JSON.stringify({ ...r, kid: kid.toString() });
    };
    for (const response of [
      kidTo((k) => (k.host = 'other-vault.vault.azure.net')),
      kidTo((k) => (k.port = '1')),
      kidTo((k) => (k.pathname = k.pathname.replace('/keys/policy-daemon/', '/keys/other-key/'))),
      kidTo((k) => (k.pathname = k.pathname.replace(/\/[^/]+$/, '/0123456789abcdef'))),
      (text: string) => JSON.stringify({ ...(JSON.parse(text) as object), kid: undefined }),
    ]) {
      broker.advance(2 * HOUR);
      const calls = broker.tap.calls;
      const retries = broker.sleeps.length;
      proxy.spoilNext({ response });
      expect(await acquire()).toMatchObject({ ok: true });
      expect(proxy.pending()).toBe(0);
      expect(broker.tap.calls - calls).toBe(1);
      expect(broker.sleeps.length - retries).toBe(1);
    }
  });

  it('never signs with a key the certificate names in another vault: nothing reaches that origin', async () => {
    const ca = await ensureDevCa();
    let reached = 0;
    const decoy: Server = createServer({ cert: ca.certPem, key: ca.keyPem }, (_req, res) => {
      reached++;
      res.writeHead(401, { 'www-authenticate': 'Bearer authorization="x", resource="y"' });
      res.end();
    });
    await new Promise<void>((r) => decoy.listen(0, '127.0.0.1', r));
    try {
      const decoyOrigin = `https://localhost:${(decoy.address() as AddressInfo).port}`;
      broker.advance(2 * HOUR);
      const calls = broker.tap.calls;
      proxy.spoilNext({
        on: 'certificate',
        response: (text) => text.replaceAll(proxy.url, decoyOrigin),
      });
      expect(await acquire()).toMatchObject({ ok: true });
      expect(proxy.pending()).toBe(0);
      expect(reached).toBe(0);
      expect(broker.tap.calls - calls).toBe(1);
    } finally {
      await new Promise<void>((r) => decoy.close(() => r()));
    }
  });
});
