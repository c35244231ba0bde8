import {
  appClaims,
  b2cUserClaims,
  ciamUserClaims,
  hs256Token,
  nowSeconds,
  TestKey,
  times,
  TokenIssuer,
  unsignedToken,
} from '@idp/testing';
import { randomUUID } from 'node:crypto';
import {
  AuthConfigError,
  InvalidTokenError,
  KeySourceUnavailableError,
  TokenValidator,
  type AuthOptions,
  type IdentityProviderOptions,
  type RejectionReason,
} from '../../src';

// B2C and External ID trusted together (a migration window): each token is held to the
// keys, issuer, audience and tenant of its own provider, never the other's.

const SIGNIN = 'B2C_1_signupsignin';
const B2C_AUD = 'api://policy-api';
const CIAM_AUD = randomUUID(); // the API's app registration in the external tenant
const LEGACY_CLAIM = 'extension_0a1b2c3d_legacyB2cObjectId';

let idp: TokenIssuer;
let b2cKey: TestKey;
let ciamKey: TestKey;
let entraKey: TestKey;

beforeAll(async () => {
  idp = await TokenIssuer.start({ flows: [] });
  [b2cKey, ciamKey, entraKey] = await Promise.all([
    TestKey.generate('b2c-rs'),
    TestKey.generate('ciam-rs'),
    TestKey.generate('entra-rs'),
  ]);
  idp.setKeys(SIGNIN, [b2cKey]);
  idp.setKeys('ciam', [ciamKey]);
  idp.setKeys('entra', [entraKey]);
});

afterAll(() => idp.stop());

const b2cProvider = (): IdentityProviderOptions => ({
  kind: 'b2c',
  identityMetadata: idp.b2cMetadataUrl(SIGNIN),
  audience: B2C_AUD,
  tenantId: idp.tenantId,
});
const ciamProvider = (extra: Partial<IdentityProviderOptions> = {}): IdentityProviderOptions =>
  ({
    kind: 'external-id',
    tenantId: idp.ciamTenantId,
    identityMetadata: idp.ciamMetadataUrl(),
    audience: CIAM_AUD,
    legacyObjectIdClaim: LEGACY_CLAIM,
    ...extra,
  }) as IdentityProviderOptions;

async function validator(providers: IdentityProviderOptions[], extra: Partial<AuthOptions> = {}) {
  const reasons: RejectionReason[] = [];
  const v = new TokenValidator({
    providers,
    allowInsecureHttp: true,
    onRejected: (e) => reasons.push(e.reason),
    ...extra,
  });
  await v.warmUp(); // deterministic: every provider's metadata is known
  return { validator: v, reasons };
}
const both = () => validator([b2cProvider(), ciamProvider()]);

const ciamClaims = (extra: Record<string, unknown> = {}) =>
  ciamUserClaims({ iss: idp.ciamIssuer(), aud: CIAM_AUD, tid: idp.ciamTenantId, ...extra });
const b2cClaims = (extra: Record<string, unknown> = {}) =>
  b2cUserClaims({ iss: idp.b2cIssuer, aud: B2C_AUD, ...extra });

async function expectRejected(
  v: { validator: TokenValidator; reasons: RejectionReason[] },
  token: string,
  reason: RejectionReason,
): Promise<void> {
  const err: unknown = await v.validator.validate(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InvalidTokenError);
  expect((err as InvalidTokenError).reason).toBe(reason);
  expect((err as InvalidTokenError).description).toMatch(/^The access token (is invalid|expired)$/);
  expect(v.reasons.at(-1)).toBe(reason);
}

describe('External ID and B2C trusted together: accepted tokens', () => {
  it('an External ID token: principal names the provider, object id, tenant, acrs, xms_cc and legacy id', async () => {
    const legacyId = randomUUID();
    const claims = ciamClaims({
      scp: 'Accounts.Read Accounts.Write',
      acrs: ['c1', 'C2'],
      xms_cc: ['CP1'],
      [LEGACY_CLAIM]: legacyId,
    });
    const principal = await (await both()).validator.validate(await ciamKey.sign(claims));
    expect(principal).toEqual({
      kind: 'user',
      oid: claims.oid,
      sub: claims.sub,
      name: 'Marge Simpson',
      emails: [],
      givenName: undefined,
      familyName: undefined,
      userFlow: undefined,
      authTime: claims.auth_time,
      scopes: ['Accounts.Read', 'Accounts.Write'],
      tenantId: idp.ciamTenantId,
      provider: { kind: 'external-id', name: 'external-id' },
      authContexts: ['c1', 'c2'],
      clientCapabilities: ['cp1'],
      legacyObjectId: legacyId,
      claims,
    });
  });

  it('a B2C token in the same validator: provider b2c, tenant from the provider config', async () => {
    const claims = b2cClaims();
    const principal = await (await both()).validator.validate(await b2cKey.sign(claims));
    expect(principal).toMatchObject({
      kind: 'user',
      oid: claims.oid,
      userFlow: 'b2c_1_signupsignin',
      tenantId: idp.tenantId,
      provider: { kind: 'b2c', name: 'b2c' },
    });
    expect(principal).not.toHaveProperty('legacyObjectId');
    expect(principal).not.toHaveProperty('authContexts');
  });

  it('an Entra app-only token through a third (entra) provider', async () => {
    const v = await validator([
      b2cProvider(),
      ciamProvider(),
      {
        kind: 'entra',
        identityMetadata: idp.entraMetadataUrl(),
        tenantId: idp.tenantId,
        audience: B2C_AUD,
      },
    ]);
    const claims = appClaims({ iss: idp.entraIssuer, aud: B2C_AUD, tid: idp.tenantId });
    await expect(v.validator.validate(await entraKey.sign(claims))).resolves.toMatchObject({
      kind: 'app',
      appId: claims.azp,
      provider: { kind: 'entra', name: 'entra' },
    });
  });

  it('ignores a legacy id claim that is not id-shaped, and any when no claim is configured', async () => {
    const odd = await ciamKey.sign(ciamClaims({ [LEGACY_CLAIM]: 'not an id; drop table' }));
    expect(await (await both()).validator.validate(odd)).not.toHaveProperty('legacyObjectId');
    const v = await validator([ciamProvider({ legacyObjectIdClaim: undefined })]);
    const token = await ciamKey.sign(ciamClaims({ [LEGACY_CLAIM]: randomUUID() }));
    expect(await v.validator.validate(token)).not.toHaveProperty('legacyObjectId');
  });
});

describe('External ID and B2C trusted together: rejected tokens', () => {
  it('wrong issuer', async () => {
    const v = await both();
    await expectRejected(
      v,
      await ciamKey.sign(ciamClaims({ iss: 'https://evil.ciamlogin.com/evil/v2.0' })),
      'issuer',
    );
  });

  it('a token of another External ID tenant (its own issuer, same global keys)', async () => {
    const v = await both();
    const other = idp.otherCiamTenantId;
    const token = await ciamKey.sign(ciamClaims({ iss: idp.ciamIssuer(other), tid: other }));
    await expectRejected(v, token, 'issuer');
  });

  it("this tenant's issuer but another tenant's tid", async () => {
    const v = await both();
    await expectRejected(
      v,
      await ciamKey.sign(ciamClaims({ tid: idp.otherCiamTenantId })),
      'tenant',
    );
    await expectRejected(v, await ciamKey.sign(ciamClaims({ tid: undefined })), 'tenant');
  });

  it('B2C-signed key presented with the External ID issuer', async () => {
    const v = await both();
    await expectRejected(v, await b2cKey.sign(ciamClaims()), 'unknown_kid');
  });

  it('External ID-signed key presented with the B2C issuer', async () => {
    const v = await both();
    await expectRejected(v, await ciamKey.sign(b2cClaims()), 'unknown_kid');
  });

  it('each provider keeps its own audience: a B2C audience on an External ID token, and back', async () => {
    const v = await both();
    await expectRejected(v, await ciamKey.sign(ciamClaims({ aud: B2C_AUD })), 'audience');
    await expectRejected(v, await b2cKey.sign(b2cClaims({ aud: CIAM_AUD })), 'audience');
  });

  it('wrong audience', async () => {
    const v = await both();
    await expectRejected(v, await ciamKey.sign(ciamClaims({ aud: 'api://another' })), 'audience');
  });

  it('expired', async () => {
    const v = await both();
    const now = nowSeconds();
    await expectRejected(
      v,
      await ciamKey.sign(ciamClaims({ ...times(now - 7200), exp: now - 120 })),
      'expired',
    );
  });

  it('alg none and HS256 with the public key as secret', async () => {
    const v = await both();
    await expectRejected(v, unsignedToken(ciamClaims(), ciamKey.kid), 'algorithm_not_allowed');
    await expectRejected(
      v,
      await hs256Token(ciamClaims(), ciamKey.publicKeyBytes(), ciamKey.kid),
      'algorithm_not_allowed',
    );
  });

  it('a token without iss', async () => {
    const v = await both();
    await expectRejected(v, await ciamKey.sign(ciamClaims({ iss: undefined })), 'issuer');
  });

  it('a B2C user flow the B2C provider does not accept', async () => {
    const v = await both();
    await expectRejected(v, await b2cKey.sign(b2cClaims({ flow: 'B2C_1_other' })), 'user_flow');
  });

  it('with only External ID trusted, a B2C token is refused', async () => {
    const v = await validator([ciamProvider()]);
    await expectRejected(v, await b2cKey.sign(b2cClaims({ aud: CIAM_AUD })), 'unknown_kid');
  });
});

describe('providers publishing one issuer (as local stand-ins can)', () => {
  it('are tried in the configured order, whatever metadata loaded first', async () => {
    // The entra provider knows the B2C issuer from its config (no metadata load needed) and its
    // JWKS also holds the B2C key; the B2C provider's metadata has not loaded yet.
    idp.setKeys('entra', [entraKey, b2cKey]);
    try {
      const v = new TokenValidator({
        providers: [
          b2cProvider(),
          {
            kind: 'entra',
            identityMetadata: idp.entraMetadataUrl(),
            tenantId: idp.tenantId,
            audience: B2C_AUD,
            issuer: idp.b2cIssuer,
          },
        ],
        allowInsecureHttp: true,
      });
      await expect(
        v.validate(await b2cKey.sign(b2cClaims({ tid: idp.tenantId }))),
      ).resolves.toMatchObject({
        kind: 'user',
        provider: { kind: 'b2c' },
      });
    } finally {
      idp.setKeys('entra', [entraKey]);
    }
  });
});

describe('one provider unreachable', () => {
  it('B2C tokens still validate while External ID metadata cannot be loaded; External ID tokens get "unavailable"', async () => {
    const down = randomUUID();
    const v = await validator([
      b2cProvider(),
      ciamProvider({ tenantId: down, identityMetadata: idp.ciamMetadataUrl(down) }),
    ]);
    await expect(v.validator.validate(await b2cKey.sign(b2cClaims()))).resolves.toMatchObject({
      provider: { kind: 'b2c' },
    });
    const ciamToken = await ciamKey.sign(ciamClaims({ iss: idp.ciamIssuer(down), tid: down }));
    await expect(v.validator.validate(ciamToken)).rejects.toBeInstanceOf(KeySourceUnavailableError);
  });
});

describe('identity provider configuration', () => {
  const ciam = () => ciamProvider();

  it('derives the External ID metadata URL and issuer', () => {
    expect(idp.ciamMetadataUrl()).toBe(
      `${idp.base}/${idp.ciamTenantId}/v2.0/.well-known/openid-configuration`,
    );
    expect(idp.ciamIssuer()).toBe(
      `https://${idp.ciamTenantId}.ciamlogin.com/${idp.ciamTenantId}/v2.0`,
    );
  });

  it.each<[string, Partial<AuthOptions>, RegExp]>([
    [
      'both identityMetadata and providers',
      { identityMetadata: 'https://x.example/m' },
      /not both/,
    ],
    [
      'a top-level issuer beside providers',
      { issuer: 'https://x' },
      /issuer belongs in each provider/,
    ],
    ['validateIssuer beside providers', { validateIssuer: false }, /validateIssuer/],
    ['isB2C beside providers', { isB2C: true }, /isB2C/],
  ])('refuses %s', (_label, extra, message) => {
    expect(
      () => new TokenValidator({ providers: [ciam()], allowInsecureHttp: true, ...extra }),
    ).toThrow(message);
  });

  it('refuses an External ID tenant that is not a GUID, a missing audience, duplicate names', () => {
    const make = (providers: IdentityProviderOptions[], extra: Partial<AuthOptions> = {}) =>
      new TokenValidator({ providers, allowInsecureHttp: true, ...extra });
    expect(() =>
      make([{ ...ciam(), tenantId: 'contoso.onmicrosoft.com' } as IdentityProviderOptions]),
    ).toThrow(AuthConfigError);
    expect(() => make([{ ...ciam(), audience: undefined } as IdentityProviderOptions])).toThrow(
      /audience is required/,
    );
    expect(
      make([{ ...ciam(), audience: undefined } as IdentityProviderOptions], { audience: 'x' })
        .options.providers[0]?.audiences,
    ).toEqual(['x']);
    expect(() => make([ciam(), ciam()])).toThrow(/unique/);
    expect(() => make([])).toThrow(AuthConfigError);
  });

  it('refuses a B2C provider with no user flow to accept, and a bad step-up auth context', () => {
    expect(
      () =>
        new TokenValidator({
          providers: [{ kind: 'b2c', identityMetadata: idp.entraMetadataUrl(), audience: 'x' }],
          allowInsecureHttp: true,
        }),
    ).toThrow(/userFlows are required/);
    expect(
      () =>
        new TokenValidator({
          providers: [ciam()],
          allowInsecureHttp: true,
          stepUp: { authContext: 'mfa' },
        }),
    ).toThrow(/c1 … c99/);
  });
});
