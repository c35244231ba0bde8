import {
  appClaims,
  b2cUserClaims,
  hs256Token,
  nowSeconds,
  tamperPayload,
  TestKey,
  times,
  TokenIssuer,
  unsignedToken,
} from '@idp/testing';
import { randomUUID } from 'node:crypto';
import { CompactSign, SignJWT } from 'jose';
import {
  AuthConfigError,
  InvalidTokenError,
  KeySourceUnavailableError,
  TokenValidator,
  type AuthOptions,
  type RejectionReason,
} from '../../src';

const SIGNIN = 'B2C_1_signupsignin';
const MFA = 'B2C_1_signupsignin_mfa';
const CLIENT_ID = randomUUID();
const API_AUD = 'api://policy-api';

let idp: TokenIssuer;
let signinKey: TestKey;
let psKey: TestKey;
let ecKey: TestKey;
let mfaKey: TestKey;
let entraKey: TestKey;

beforeAll(async () => {
  idp = await TokenIssuer.start({ flows: [] });
  [signinKey, psKey, ecKey, mfaKey, entraKey] = await Promise.all([
    TestKey.generate('signin-rs'),
    TestKey.generate('signin-ps', 'PS256'),
    TestKey.generate('signin-ec', 'ES256'),
    TestKey.generate('mfa-rs'),
    TestKey.generate('entra-rs'),
  ]);
  idp.setKeys(SIGNIN, [signinKey, psKey, ecKey]);
  idp.setKeys(MFA, [mfaKey]);
  idp.setKeys('entra', [entraKey]);
});

afterAll(() => idp.stop());

function b2cValidator(extra: Partial<AuthOptions> = {}) {
  const reasons: RejectionReason[] = [];
  const validator = new TokenValidator({
    identityMetadata: [idp.b2cMetadataUrl(SIGNIN), idp.b2cMetadataUrl(MFA)],
    clientID: CLIENT_ID,
    audience: API_AUD,
    isB2C: true,
    allowInsecureHttp: true,
    onRejected: (e) => reasons.push(e.reason),
    ...extra,
  });
  return { validator, reasons };
}

const userClaims = (extra: Record<string, unknown> = {}) =>
  b2cUserClaims({ iss: idp.b2cIssuer, aud: API_AUD, ...extra });

async function expectRejected(
  v: { validator: TokenValidator; reasons: RejectionReason[] },
  token: string,
  reason: RejectionReason,
): Promise<InvalidTokenError> {
  const err: unknown = await v.validator.validate(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InvalidTokenError);
  expect(v.reasons.at(-1)).toBe(reason);
  expect((err as InvalidTokenError).reason).toBe(reason);
  return err as InvalidTokenError;
}

describe('TokenValidator: accepted tokens', () => {
  const v = () => b2cValidator();

  it('returns a typed user principal for a B2C sign-in token', async () => {
    const claims = userClaims({
      flow: 'B2C_1_SignUpSignIn',
      scp: 'Accounts.Read Accounts.Write',
      tid: idp.tenantId,
    });
    const principal = await v().validator.validate(await signinKey.sign(claims));
    expect(principal).toEqual({
      kind: 'user',
      oid: claims.oid,
      sub: claims.sub,
      name: 'Marge Simpson',
      emails: ['marge@example.test'],
      givenName: 'Marge',
      familyName: 'Simpson',
      userFlow: 'b2c_1_signupsignin',
      authTime: claims.auth_time,
      scopes: ['Accounts.Read', 'Accounts.Write'],
      tenantId: idp.tenantId,
      claims,
    });
    expect(Object.isFrozen(principal)).toBe(true);
    expect(Object.isFrozen(principal.claims)).toBe(true);
  });

  it('accepts the MFA flow, whose own JWKS has a different key but the same issuer', async () => {
    const principal = await v().validator.validate(await mfaKey.sign(userClaims({ flow: MFA })));
    expect(principal.kind === 'user' && principal.userFlow).toBe('b2c_1_signupsignin_mfa');
  });

  it('accepts PS256 and ES256 tokens', async () => {
    const validator = v().validator;
    await expect(validator.validate(await psKey.sign(userClaims()))).resolves.toMatchObject({
      kind: 'user',
    });
    await expect(validator.validate(await ecKey.sign(userClaims()))).resolves.toMatchObject({
      kind: 'user',
    });
  });

  it('accepts both the api:// audience and the bare client id', async () => {
    const validator = v().validator;
    for (const aud of [API_AUD, CLIENT_ID, ['https://other', CLIENT_ID]]) {
      await expect(
        validator.validate(await signinKey.sign(userClaims({ aud }))),
      ).resolves.toMatchObject({
        kind: 'user',
      });
    }
  });

  it('accepts an exp that passed within the clock skew', async () => {
    const now = nowSeconds();
    const token = await signinKey.sign(userClaims({ ...times(now - 3600), exp: now - 30 }));
    await expect(v().validator.validate(token)).resolves.toMatchObject({ kind: 'user' });
  });

  it('collects emails from `emails` and `email`', async () => {
    const token = await signinKey.sign(
      userClaims({ emails: undefined, email: 'homer@example.test' }),
    );
    await expect(v().validator.validate(token)).resolves.toMatchObject({
      emails: ['homer@example.test'],
    });
  });

  it('returns an app principal for an Entra app-only token (idtyp=app)', async () => {
    const validator = new TokenValidator({
      identityMetadata: idp.entraMetadataUrl(),
      audience: API_AUD,
      allowInsecureHttp: true,
    });
    const claims = appClaims({ iss: idp.entraIssuer, aud: API_AUD, tid: idp.tenantId });
    await expect(validator.validate(await entraKey.sign(claims))).resolves.toEqual({
      kind: 'app',
      appId: claims.azp,
      roles: ['Policies.Read.All'],
      tenantId: idp.tenantId,
      oid: claims.oid,
      claims,
    });
  });

  it('refuses a token that claims to be app-only (idtyp=app) and carries delegated scopes', async () => {
    const v = b2cValidator({ identityMetadata: idp.entraMetadataUrl(), isB2C: false });
    for (const scp of ['Accounts.Read', '']) {
      const token = await entraKey.sign(
        appClaims({ iss: idp.entraIssuer, aud: API_AUD, tid: idp.tenantId, scp }),
      );
      await expectRejected(v, token, 'invalid');
    }
  });

  it('treats a v1 token with roles and no scp as app-only (appid), with an explicit issuer list', async () => {
    const v1Issuer = `https://sts.windows.net/${idp.tenantId}/`;
    const validator = new TokenValidator({
      identityMetadata: idp.entraMetadataUrl(),
      audience: API_AUD,
      issuer: [v1Issuer, idp.entraIssuer],
      allowInsecureHttp: true,
    });
    const appid = randomUUID();
    const token = await entraKey.sign({
      ver: '1.0',
      iss: v1Issuer,
      aud: API_AUD,
      appid,
      roles: ['Policies.Read.All'],
      sub: appid,
      ...times(),
    });
    await expect(validator.validate(token)).resolves.toMatchObject({ kind: 'app', appId: appid });
  });
});

describe('TokenValidator: rejected tokens', () => {
  it('expired', async () => {
    const v = b2cValidator();
    const now = nowSeconds();
    const err = await expectRejected(
      v,
      await signinKey.sign(userClaims({ ...times(now - 7200), exp: now - 120 })),
      'expired',
    );
    expect(err.description).toBe('The access token expired');
  });

  it('not yet valid', async () => {
    const v = b2cValidator();
    const err = await expectRejected(
      v,
      await signinKey.sign(userClaims({ nbf: nowSeconds() + 600 })),
      'not_yet_valid',
    );
    expect(err.description).toBe('The access token is not yet valid (nbf is in the future)');
  });

  it('wrong issuer, with a generic description', async () => {
    const v = b2cValidator();
    const err = await expectRejected(
      v,
      await signinKey.sign(userClaims({ iss: `${idp.base}/other/v2.0/` })),
      'issuer',
    );
    expect(err.description).toBe('The access token is invalid');
  });

  it('wrong audience, with the same description as a bad signature (no oracle)', async () => {
    const v = b2cValidator();
    const aud = await expectRejected(
      v,
      await signinKey.sign(userClaims({ aud: 'api://someone-else' })),
      'audience',
    );
    const sig = await expectRejected(
      v,
      tamperPayload(await signinKey.sign(userClaims()), { scp: 'Admin' }),
      'signature',
    );
    expect(aud.description).toBe(sig.description);
    expect(aud.description).not.toMatch(/aud|signature|someone/i);
  });

  it('alg none', async () => {
    const v = b2cValidator();
    await expectRejected(v, unsignedToken(userClaims(), signinKey.kid), 'algorithm_not_allowed');
  });

  it('HS256 signed with the public key bytes as the secret', async () => {
    const v = b2cValidator();
    const token = await hs256Token(userClaims(), signinKey.publicKeyBytes(), signinKey.kid);
    await expectRejected(v, token, 'algorithm_not_allowed');
  });

  it('unknown kid', async () => {
    const v = b2cValidator();
    await expectRejected(
      v,
      await signinKey.sign(userClaims(), { kid: 'not-published' }),
      'unknown_kid',
    );
  });

  it('a kid whose key does not fit the alg (RS256 header naming the EC key)', async () => {
    const v = b2cValidator();
    await expectRejected(v, await signinKey.sign(userClaims(), { kid: ecKey.kid }), 'unknown_kid');
  });

  it('tampered payload', async () => {
    const v = b2cValidator();
    await expectRejected(
      v,
      tamperPayload(await signinKey.sign(userClaims()), { oid: randomUUID() }),
      'signature',
    );
  });

  it('missing kid', async () => {
    const v = b2cValidator();
    await expectRejected(v, await signinKey.sign(userClaims(), { kid: undefined }), 'missing_kid');
  });

  it('a critical header extension it does not understand', async () => {
    const v = b2cValidator();
    const token = await new SignJWT(userClaims())
      .setProtectedHeader({ alg: 'RS256', kid: signinKey.kid, crit: ['x-ext'], 'x-ext': 1 })
      .sign(signinKey.privateKey, { crit: { 'x-ext': true } });
    await expectRejected(v, token, 'malformed');
  });

  it('no exp claim', async () => {
    const v = b2cValidator();
    await expectRejected(v, await signinKey.sign(userClaims({ exp: undefined })), 'missing_claim');
  });

  it('a user token without sub or oid', async () => {
    const v = b2cValidator();
    await expectRejected(
      v,
      await signinKey.sign(userClaims({ sub: undefined, oid: undefined })),
      'missing_claim',
    );
  });

  it('a B2C user flow that is not configured', async () => {
    const v = b2cValidator();
    await expectRejected(
      v,
      await signinKey.sign(userClaims({ flow: 'B2C_1_legacy' })),
      'user_flow',
    );
  });

  it('an algorithm outside the configured allow-list', async () => {
    const v = b2cValidator({ allowedAlgorithms: ['RS256'] });
    await expectRejected(v, await ecKey.sign(userClaims()), 'algorithm_not_allowed');
  });

  it("a key of one metadata document used with another document's issuer", async () => {
    const v = b2cValidator({
      identityMetadata: [idp.b2cMetadataUrl(SIGNIN), idp.entraMetadataUrl()],
    });
    // Signed by the Entra tenant's key but claiming the B2C issuer.
    await expectRejected(v, await entraKey.sign(userClaims()), 'issuer');
  });

  it('strings that are not compact JWS', async () => {
    const v = b2cValidator();
    for (const token of [
      '',
      'abc',
      'a.b',
      'a.b.c.d',
      '..',
      'a b.c.d',
      `${'a'.repeat(17000)}.b.c`,
    ]) {
      await expectRejected(v, token, 'malformed');
    }
    await expectRejected(v, 'eyJub3QganNvbg.eyJ9.c2ln', 'malformed');
  });
});

/** Signs the payload text as given: JSON.stringify cannot write 1e400 (JSON.parse reads it as Infinity). */
const signRaw = (key: TestKey, payload: string) =>
  new CompactSign(new TextEncoder().encode(payload))
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid })
    .sign(key.privateKey);

describe('TokenValidator: time claims of a token the trusted issuer signed', () => {
  const now = nowSeconds();
  const HOUR = 3600;

  it.each<[string, Record<string, unknown>, RejectionReason, string]>([
    ['iat in the future beyond the skew', { iat: now + 120, nbf: now }, 'issued_in_future', 'iat'],
    ['iat far in the future', { iat: now + 10 * 365 * 86_400 }, 'issued_in_future', 'iat'],
    ['nbf in the future beyond the skew', { nbf: now + 120 }, 'not_yet_valid', 'nbf'],
    ['exp 1e20', { exp: 1e20 }, 'invalid_time_claim', 'exp'],
    ['exp ten years away', { exp: now + 10 * 365 * 86_400 }, 'lifetime_too_long', 'nbf'],
    [
      'exp 25 h after nbf',
      { ...times(now - HOUR), exp: now - HOUR + 25 * HOUR },
      'lifetime_too_long',
      'nbf',
    ],
    [
      'exp 25 h after iat, no nbf',
      { ...times(now - HOUR), nbf: undefined, exp: now + 24 * HOUR },
      'lifetime_too_long',
      'iat',
    ],
    ['a negative nbf', { nbf: -1 }, 'invalid_time_claim', 'nbf'],
    ['a negative iat', { iat: -100 }, 'invalid_time_claim', 'iat'],
    ['a fractional exp', { exp: now + 600.5 }, 'invalid_time_claim', 'exp'],
    ['a fractional iat', { iat: now - 0.25 }, 'invalid_time_claim', 'iat'],
    ['exp as a string', { exp: String(now + 600) }, 'invalid_time_claim', 'exp'],
    ['nbf as a string', { nbf: String(now) }, 'invalid_time_claim', 'nbf'],
    ['iat as a string', { iat: new Date().toISOString() }, 'invalid_time_claim', 'iat'],
    ['exp as null', { exp: null }, 'invalid_time_claim', 'exp'],
    ['exp as a boolean', { exp: true }, 'invalid_time_claim', 'exp'],
  ])('refuses %s, naming the claim', async (_label, claims, reason, claim) => {
    const v = b2cValidator();
    const err = await expectRejected(v, await signinKey.sign(userClaims(claims)), reason);
    expect(err.claim).toBe(claim);
    expect(err.description).toContain(claim);
  });

  it('refuses exp, nbf or iat of 1e400 (Infinity once parsed)', async () => {
    for (const claim of ['exp', 'nbf', 'iat'] as const) {
      const v = b2cValidator();
      const claims = userClaims();
      const json = JSON.stringify(claims).replace(
        `"${claim}":${claims[claim] as number}`,
        `"${claim}":1e400`,
      );
      expect(json).toContain('1e400');
      const err = await expectRejected(v, await signRaw(signinKey, json), 'invalid_time_claim');
      expect(err.description).toBe(`The access token ${claim} claim is not a valid NumericDate`);
    }
  });

  it('refuses a token without nbf and iat whose exp is further away than the maximum lifetime', async () => {
    const v = b2cValidator();
    const claims = userClaims({ nbf: undefined, iat: undefined, exp: now + 25 * HOUR });
    await expectRejected(v, await signinKey.sign(claims), 'lifetime_too_long');
  });

  it('accepts 24 h exactly, an iat within the skew, and a token without iat', async () => {
    const { validator } = b2cValidator();
    for (const claims of [
      { ...times(now - HOUR), exp: now - HOUR + 24 * HOUR },
      { iat: now + 50, nbf: now, exp: now + HOUR },
      { iat: undefined, nbf: now, exp: now + HOUR },
      { iat: now, nbf: undefined, exp: now + 5 * 60 },
    ]) {
      await expect(
        validator.validate(await signinKey.sign(userClaims(claims))),
      ).resolves.toMatchObject({
        kind: 'user',
      });
    }
  });

  it('uses maxTokenLifetimeSeconds when configured', async () => {
    const short = b2cValidator({ maxTokenLifetimeSeconds: HOUR });
    const long = b2cValidator({ maxTokenLifetimeSeconds: 2 * 86_400 });
    const twoHours = await signinKey.sign(userClaims({ ...times(now, 2 * HOUR) }));
    await expectRejected(short, twoHours, 'lifetime_too_long');
    const thirtyHours = await signinKey.sign(userClaims({ ...times(now, 30 * HOUR) }));
    await expect(long.validator.validate(thirtyHours)).resolves.toMatchObject({ kind: 'user' });
  });

  it('refuses a time claim signed without a valid key just like any forgery (signature first)', async () => {
    const v = b2cValidator();
    const token = tamperPayload(await signinKey.sign(userClaims()), { exp: 'never' });
    const err = await expectRejected(v, token, 'signature');
    expect(err.description).toBe('The access token is invalid');
  });
});

describe('TokenValidator: configuration', () => {
  const base: AuthOptions = {
    identityMetadata: 'https://login.example/t/v2.0/.well-known/openid-configuration',
    audience: 'api://x',
  };

  it('refuses http metadata unless allowInsecureHttp is set', () => {
    const http = { ...base, identityMetadata: idp.entraMetadataUrl() };
    expect(() => new TokenValidator(http)).toThrow(AuthConfigError);
    expect(() => new TokenValidator({ ...http, allowInsecureHttp: true })).not.toThrow();
  });

  it('bounds the clock skew to 0..300 seconds', () => {
    expect(() => new TokenValidator({ ...base, clockSkewSeconds: 301 })).toThrow(AuthConfigError);
    expect(() => new TokenValidator({ ...base, clockSkewSeconds: -1 })).toThrow(AuthConfigError);
    expect(new TokenValidator({ ...base, clockSkewSeconds: 300 }).options.clockSkewSeconds).toBe(
      300,
    );
    expect(new TokenValidator(base).options.clockSkewSeconds).toBe(60);
  });

  it('bounds maxTokenLifetimeSeconds to whole seconds in 300..604800, default 86400', () => {
    expect(new TokenValidator(base).options.maxTokenLifetimeSeconds).toBe(86_400);
    for (const bad of [299, 604_801, 3600.5, Number.NaN, Infinity]) {
      expect(() => new TokenValidator({ ...base, maxTokenLifetimeSeconds: bad })).toThrow(
        /maxTokenLifetimeSeconds/,
      );
    }
    expect(
      new TokenValidator({ ...base, maxTokenLifetimeSeconds: 300 }).options.maxTokenLifetimeSeconds,
    ).toBe(300);
  });

  it('requires an audience and refuses symmetric or unknown algorithms', () => {
    expect(() => new TokenValidator({ identityMetadata: base.identityMetadata })).toThrow(
      /audience or clientID/,
    );
    const hs = { ...base, allowedAlgorithms: ['HS256'] } as unknown as AuthOptions;
    expect(() => new TokenValidator(hs)).toThrow(AuthConfigError);
    const none = { ...base, allowedAlgorithms: ['none'] } as unknown as AuthOptions;
    expect(() => new TokenValidator(none)).toThrow(AuthConfigError);
  });

  it('refuses unknown option names (e.g. a misspelt clientID)', () => {
    const typo = { ...base, clientId: 'x' } as unknown as AuthOptions;
    expect(() => new TokenValidator(typo)).toThrow(/clientId/);
  });

  it('derives the allowed B2C user flows from the metadata URLs, lower-cased', () => {
    const { validator } = b2cValidator();
    expect(validator.options.allowedUserFlows).toEqual([
      'b2c_1_signupsignin',
      'b2c_1_signupsignin_mfa',
    ]);
    expect(validator.options.audiences).toEqual([API_AUD, CLIENT_ID]);
  });

  it('reports unavailable keys (not an invalid token) when no metadata can be loaded', async () => {
    const v = b2cValidator({ identityMetadata: idp.b2cMetadataUrl('B2C_1_does_not_exist') });
    const token = await signinKey.sign(userClaims());
    await expect(v.validator.validate(token)).rejects.toBeInstanceOf(KeySourceUnavailableError);
    // A malformed token is still just invalid.
    await expect(v.validator.validate('x.y.z')).rejects.toBeInstanceOf(InvalidTokenError);
  });
});

describe('TokenValidator: key rotation', () => {
  it('accepts a token signed by a newly published key without restart, and drops the retired one', async () => {
    const flow = 'B2C_1_rotation';
    const [oldKey, newKey] = await Promise.all([
      TestKey.generate('rot-old'),
      TestKey.generate('rot-new'),
    ]);
    idp.setKeys(flow, [oldKey]);
    let now = Date.now();
    const v = b2cValidator({ identityMetadata: idp.b2cMetadataUrl(flow), clock: () => now });
    const claims = userClaims({ flow });
    const oldToken = await oldKey.sign(claims);
    await v.validator.validate(oldToken);
    const hitsBefore = idp.jwksHits(flow);

    idp.setKeys(flow, [newKey]);
    now += 31_000; // past the refetch cooldown
    const principal = await v.validator.validate(await newKey.sign(claims));
    expect(principal.kind).toBe('user');
    expect(idp.jwksHits(flow)).toBe(hitsBefore + 1);
    // The key set changed: the cache was flushed, and the retired key no longer verifies.
    expect(v.validator.cacheStats()?.flushes).toBe(1);
    await expectRejected(v, oldToken, 'unknown_kid');
  });

  it('rate-limits refetches: a flood of unknown kids causes at most one refetch per interval', async () => {
    const flow = 'B2C_1_flood';
    const key = await TestKey.generate('flood-1');
    idp.setKeys(flow, [key]);
    let now = Date.now();
    const v = b2cValidator({
      identityMetadata: idp.b2cMetadataUrl(flow),
      clock: () => now,
      jwks: { refreshCooldownSeconds: 30 },
    });
    await v.validator.validate(await key.sign(userClaims({ flow })));
    const initial = idp.jwksHits(flow);
    expect(initial).toBe(1);

    now += 31_000;
    const forged = await Promise.all(
      Array.from({ length: 40 }, () => key.sign(userClaims({ flow }), { kid: randomUUID() })),
    );
    const concurrent = await Promise.allSettled(
      forged.slice(0, 20).map((t) => v.validator.validate(t)),
    );
    expect(concurrent.every((r) => r.status === 'rejected')).toBe(true);
    for (const t of forged.slice(20))
      await expect(v.validator.validate(t)).rejects.toBeInstanceOf(InvalidTokenError);
    expect(idp.jwksHits(flow)).toBe(initial + 1);

    now += 31_000;
    await expect(v.validator.validate(forged[0] as string)).rejects.toBeInstanceOf(
      InvalidTokenError,
    );
    expect(idp.jwksHits(flow)).toBe(initial + 2);
  });

  it('refreshes keys older than maxAge in the background', async () => {
    const flow = 'B2C_1_aging';
    const [k1, k2] = await Promise.all([TestKey.generate('age-1'), TestKey.generate('age-2')]);
    idp.setKeys(flow, [k1]);
    let now = Date.now();
    const v = b2cValidator({
      identityMetadata: idp.b2cMetadataUrl(flow),
      clock: () => now,
      jwks: { maxAgeSeconds: 60 },
    });
    await v.validator.validate(await k1.sign(userClaims({ flow })));
    idp.setKeys(flow, [k1, k2]);
    now += 61_000;
    // A fresh (uncached) token with the known kid triggers the background refresh ...
    await v.validator.validate(await k1.sign(userClaims({ flow })));
    // ... which the next request for the new kid shares instead of fetching again.
    await v.validator.validate(await k2.sign(userClaims({ flow })));
    expect(idp.jwksHits(flow)).toBe(2);
  });
});

describe('TokenValidator: verified-token cache', () => {
  it('returns the same principal on a hit', async () => {
    const { validator } = b2cValidator();
    const token = await signinKey.sign(userClaims());
    const first = await validator.validate(token);
    const second = await validator.validate(token);
    expect(second).toBe(first);
    expect(validator.cacheStats()).toMatchObject({ hits: 1, misses: 1, size: 1 });
  });

  it('is keyed by the whole token: same claims with another signature are re-verified', async () => {
    const v = b2cValidator();
    const token = await signinKey.sign(userClaims());
    await v.validator.validate(token);
    const [h, p, s] = token.split('.') as [string, string, string];
    const mid = Math.floor(s.length / 2);
    const forged = `${h}.${p}.${s.slice(0, mid)}${s[mid] === 'A' ? 'B' : 'A'}${s.slice(mid + 1)}`;
    await expectRejected(v, forged, 'signature');
  });

  it('rejects an expired token on a hit even while the entry is within its TTL', async () => {
    let now = Date.now();
    const v = b2cValidator({ clock: () => now, cache: { ttlSeconds: 600 } });
    const issued = Math.floor(now / 1000);
    const token = await signinKey.sign(userClaims({ ...times(issued, 30) }));
    await v.validator.validate(token);
    await v.validator.validate(token);
    expect(v.validator.cacheStats()?.hits).toBe(1);
    now += (30 + 60 + 1) * 1000; // past exp + skew
    await expectRejected(v, token, 'expired');
    expect(v.validator.cacheStats()?.size).toBe(0);
  });

  it('never keeps an entry longer than the TTL', async () => {
    let now = Date.now();
    const v = b2cValidator({ clock: () => now, cache: { ttlSeconds: 60 } });
    const token = await signinKey.sign(userClaims());
    await v.validator.validate(token);
    now += 61_000;
    await v.validator.validate(token); // still valid: fully re-validated
    expect(v.validator.cacheStats()).toMatchObject({ hits: 0, misses: 2 });
  });

  it('is bounded (LRU)', async () => {
    const v = b2cValidator({ cache: { maxEntries: 2 } });
    const tokens = await Promise.all([1, 2, 3].map(() => signinKey.sign(userClaims())));
    for (const t of tokens) await v.validator.validate(t);
    expect(v.validator.cacheStats()?.size).toBe(2);
    await v.validator.validate(tokens[2] as string);
    await v.validator.validate(tokens[0] as string);
    expect(v.validator.cacheStats()).toMatchObject({ hits: 1, misses: 4 });
  });

  it('can be disabled', async () => {
    const v = b2cValidator({ cache: { enabled: false } });
    const token = await signinKey.sign(userClaims());
    const a = await v.validator.validate(token);
    const b = await v.validator.validate(token);
    expect(a).not.toBe(b);
    expect(v.validator.cacheStats()).toBeUndefined();
  });
});
