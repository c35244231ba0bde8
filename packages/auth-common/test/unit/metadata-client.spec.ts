import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TestKey, TokenIssuer } from '@idp/testing';
import { fetchJwks, fetchOpenIdMetadata, MetadataFetchError } from '../../src/metadata-client';
import { KeySourceUnavailableError } from '../../src/token-errors';
import { TokenValidator } from '../../src/token-validator';

let idp: TokenIssuer;
const FLOW = 'B2C_1_meta';
const policy = { timeoutMs: 2000, allowInsecureHttp: true };

beforeAll(async () => {
  idp = await TokenIssuer.start({ flows: [] });
  idp.setKeys(FLOW, [await TestKey.generate('meta-1')]);
});
afterAll(() => idp.stop());
afterEach(() => idp.clearOverrides());

const metadataPath = () => new URL(idp.b2cMetadataUrl(FLOW)).pathname;

describe('metadata client', () => {
  it('reads metadata and JWKS', async () => {
    const metadata = await fetchOpenIdMetadata(idp.b2cMetadataUrl(FLOW), policy);
    expect(metadata.issuer).toBe(idp.b2cIssuer);
    const keys = await fetchJwks(metadata.jwks_uri, policy);
    expect(keys).toHaveLength(1);
  });

  it('refuses http unless allowed', async () => {
    await expect(
      fetchOpenIdMetadata(idp.b2cMetadataUrl(FLOW), { ...policy, allowInsecureHttp: false }),
    ).rejects.toThrow(/https required/);
  });

  it('refuses a jwks_uri with another scheme', async () => {
    idp.override(metadataPath(), () => ({
      status: 200,
      body: { issuer: 'x', jwks_uri: 'file:///etc/passwd' },
    }));
    await expect(fetchOpenIdMetadata(idp.b2cMetadataUrl(FLOW), policy)).rejects.toBeInstanceOf(
      MetadataFetchError,
    );
  });

  it('refuses error statuses and documents without issuer / keys', async () => {
    idp.override(metadataPath(), () => ({ status: 500, body: {} }));
    await expect(fetchOpenIdMetadata(idp.b2cMetadataUrl(FLOW), policy)).rejects.toThrow(
      /answered 500/,
    );
    idp.override(metadataPath(), () => ({ status: 200, body: { jwks_uri: idp.base } }));
    await expect(fetchOpenIdMetadata(idp.b2cMetadataUrl(FLOW), policy)).rejects.toThrow(/issuer/);
    idp.override(idp.jwksPath(FLOW), () => ({ status: 200, body: { nokeys: true } }));
    await expect(fetchJwks(`${idp.base}${idp.jwksPath(FLOW)}`, policy)).rejects.toThrow(
      /keys array/,
    );
  });
});

describe('an identity provider that sends a document without end', () => {
  // What the server has handed to the socket; it stops at SERVER_CAP so a client that reads
  // everything (the old behaviour) still finishes, just with SERVER_CAP bytes in memory.
  const SERVER_CAP = 256 * 1024 * 1024;
  let server: Server;
  let base: string;
  const sent = { metadata: 0, jwks: 0 };

  /** Streams `prefix` and then string array items forever, chunked (no Content-Length). */
  const endless = (
    res: import('node:http').ServerResponse,
    prefix: string,
    count: 'metadata' | 'jwks',
  ) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(prefix);
    const chunk = `"${'a'.repeat(64 * 1024)}",`;
    const pump = (): void => {
      while (!res.destroyed) {
        if (sent[count] >= SERVER_CAP) return void res.end('"end"]}');
        sent[count] += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
    };
    pump();
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/endless-metadata')
        return endless(res, '{"issuer":"x","jwks_uri":"x","pad":[', 'metadata');
      if (req.url === '/endless-keys') return endless(res, '{"keys":[', 'jwks');
      res.end(JSON.stringify({ issuer: 'https://issuer.test', jwks_uri: `${base}/endless-keys` }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('stops reading at 512 KiB (metadata or JWKS) instead of buffering until the fetch timeout', async () => {
    const slowPolicy = { timeoutMs: 60_000, allowInsecureHttp: true };
    await expect(fetchOpenIdMetadata(`${base}/endless-metadata`, slowPolicy)).rejects.toThrow(
      /too large/,
    );
    await expect(fetchJwks(`${base}/endless-keys`, slowPolicy)).rejects.toThrow(/too large/);
    // Through the validator: no keys, so a well-formed token is "unavailable", not a 60 s wait
    // with the process growing by gigabytes.
    sent.jwks = 0;
    const validator = new TokenValidator({
      identityMetadata: `${base}/metadata`,
      audience: 'api://test',
      allowInsecureHttp: true,
      jwks: { fetchTimeoutMs: 60_000 },
    });
    const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const token = `${b64({ alg: 'RS256', kid: 'k1' })}.${b64({ exp: 1 })}.c2ln`;
    await expect(validator.validate(token)).rejects.toBeInstanceOf(KeySourceUnavailableError);
    // Socket buffers let the server get somewhat ahead of what was read; never far.
    for (const bytes of Object.values(sent)) expect(bytes).toBeLessThan(32 * 1024 * 1024);
  });
});
