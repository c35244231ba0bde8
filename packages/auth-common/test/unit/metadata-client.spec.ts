import { TestKey, TokenIssuer } from '@idp/testing';
import { fetchJwks, fetchOpenIdMetadata, MetadataFetchError } from '../../src/metadata-client';

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
