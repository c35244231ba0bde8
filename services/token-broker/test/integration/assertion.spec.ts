// Independent verification of the client assertion the broker has Key Vault sign: our identity
// stand-in and a certified OpenID Provider (oidc-provider, private_key_jwt) both accept it, and
// both refuse a tampered, expired, wrong-audience or replayed one.
import { freePort, startNode, type RunningProcess } from '@idp/testing';
import { loadConfig } from '@idp/service-kit';
import { createPublicKey, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { buildClientAssertion, type AssertionInput } from '../../src/assertion/client-assertion';
import { envSchema } from '../../src/config';
import { JWT_BEARER, redeemAssertion, tokenEndpointFor } from '../../src/entra/token-endpoint';
import { CertificateReader, type SigningCertificate } from '../../src/keyvault/certificate-reader';
import { createKeyVaultCredential } from '../../src/keyvault/credential';
import { KeyVaultSigner } from '../../src/keyvault/key-signer';
import { CERTIFICATE, ids, POLICY_SCOPE } from '../support/seed';
import { startStack, type Stack } from '../support/stack';
import { claimsOf, headerOf } from '../support/validate';

/** true when accepted, else the refusal (AADSTS code for Entra, the OAuth error for the OP). */
type Verifier = (assertion: string) => Promise<true | string>;

describe('client assertion signed in Key Vault', () => {
  let stack: Stack;
  let op: RunningProcess;
  let opTokenEndpoint: string;
  let certificate: SigningCertificate;
  let signer: KeyVaultSigner;
  let entraEndpoint: string;

  const assertion = (audience: string, o: Partial<AssertionInput> = {}) =>
    buildClientAssertion(
      { clientId: ids.daemon, audience, certificate, algorithm: 'PS256', ...o },
      signer,
    );

  // The identity stand-in, as Entra: redeem for a token.
  const entraAccepts: Verifier = (a) =>
    redeemAssertion({
      endpoint: entraEndpoint,
      clientId: ids.daemon,
      scope: POLICY_SCOPE,
      assertion: a,
    }).then(
      () => true as const,
      (e: { aadsts?: string }) => e.aadsts ?? 'refused',
    );
  // oidc-provider: client_credentials with private_key_jwt.
  const opAccepts: Verifier = async (a) => {
    const r = await fetch(opTokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: ids.daemon,
        client_assertion_type: JWT_BEARER,
        client_assertion: a,
      }).toString(),
    });
    const body = (await r.json()) as { access_token?: string; error?: string };
    return r.status === 200 && body.access_token ? true : (body.error ?? 'refused');
  };

  beforeAll(async () => {
    stack = await startStack();
    const env = loadConfig(envSchema, stack.brokerEnv());
    const credential = createKeyVaultCredential(env);
    certificate = await new CertificateReader(env, credential).current(CERTIFICATE);
    signer = new KeyVaultSigner(credential, env);
    entraEndpoint = tokenEndpointFor(stack.dev.authorityHost, ids.contoso);

    const pem = stack.dev.keyVault?.certificate(CERTIFICATE)?.pem;
    if (!pem) throw new Error('no certificate in the vault');
    const jwk = createPublicKey(pem).export({ format: 'jwk' });
    op = startNode(join(__dirname, '..', 'support', 'oidc-op.mjs'), {
      PORT: String(await freePort()),
      CLIENT_ID: ids.daemon,
      CLIENT_JWK: JSON.stringify(jwk),
    });
    for (let i = 0; i < 200 && !op.output().includes('tokenEndpoint'); i++)
      await new Promise((r) => setTimeout(r, 50));
    const line = op
      .output()
      .split('\n')
      .find((l) => l.includes('tokenEndpoint'));
    if (!line) throw new Error(`oidc-provider did not start:\n${op.output()}`);
    opTokenEndpoint = (JSON.parse(line) as { tokenEndpoint: string }).tokenEndpoint;
  }, 90000);

  afterAll(async () => {
    await op?.stop();
    await stack?.stop();
  });

  it('has the header and claims Microsoft documents (PS256, x5t#S256, aud, iss = sub, jti, nbf/iat/exp ≤ 10 min)', async () => {
    const a = await assertion(entraEndpoint);
    expect(headerOf(a)).toEqual({ alg: 'PS256', typ: 'JWT', 'x5t#S256': certificate.x5tS256 });
    const c = claimsOf(a);
    expect(c).toMatchObject({ aud: entraEndpoint, iss: ids.daemon, sub: ids.daemon });
    expect(c.jti).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(c.nbf).toBe(c.iat);
    expect(Number(c.exp) - Number(c.iat)).toBeLessThanOrEqual(600);
    expect(headerOf(await assertion(entraEndpoint, { algorithm: 'RS256' }))).toEqual({
      alg: 'RS256',
      typ: 'JWT',
      x5t: certificate.x5t,
    });
  });

  // Entra's codes: 700027 bad signature, 700024 outside its validity, 50013 wrong audience / replayed jti.
  describe.each([
    [
      'the identity stand-in (Entra)',
      () => entraEndpoint,
      () => entraAccepts,
      {
        tampered: 'AADSTS700027',
        expired: 'AADSTS700024',
        audience: 'AADSTS50013',
        replay: 'AADSTS50013',
      },
    ],
    [
      'oidc-provider (certified OP)',
      () => opTokenEndpoint,
      () => opAccepts,
      {
        tampered: 'invalid_client',
        expired: 'invalid_client',
        audience: 'invalid_client',
        replay: 'invalid_client',
      },
    ],
  ])('%s', (_name, audience, verifier, refusal) => {
    it('accepts the PS256 and the legacy RS256 assertion', async () => {
      expect(await verifier()(await assertion(audience()))).toBe(true);
      expect(await verifier()(await assertion(audience(), { algorithm: 'RS256' }))).toBe(true);
    });

    it('refuses a tampered assertion', async () => {
      // A new jti on a signed assertion (what a replay attempt would do): only the signature can catch it.
      const [h, p, s] = (await assertion(audience())).split('.');
      const claims = { ...claimsOf(`${h}.${p}.${s}`), jti: randomUUID() };
      expect(
        await verifier()(`${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`),
      ).toBe(refusal.tampered);
      const good = await assertion(audience());
      const flipped = good.slice(0, -2) + (good.at(-2) === 'A' ? 'B' : 'A') + good.at(-1);
      expect(await verifier()(flipped)).toBe(refusal.tampered);
    });

    it('refuses an expired assertion', async () => {
      expect(
        await verifier()(
          await assertion(audience(), { nowSeconds: Math.floor(Date.now() / 1000) - 3600 }),
        ),
      ).toBe(refusal.expired);
    });

    it('refuses an assertion for another audience', async () => {
      expect(
        await verifier()(await assertion('https://login.example.invalid/other/oauth2/v2.0/token')),
      ).toBe(refusal.audience);
    });

    it('refuses a replayed assertion', async () => {
      const a = await assertion(audience());
      expect(await verifier()(a)).toBe(true);
      expect(await verifier()(a)).toBe(refusal.replay);
    });
  });
});
