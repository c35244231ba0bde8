import { b2cUserClaims, ciamUserClaims, nowSeconds, TestKey, TokenIssuer } from '@idp/testing';
import { randomUUID } from 'node:crypto';
import { Controller, Put } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AuthModule, RequireScopes, RequireStepUp } from '../../src';
import { startApp } from '../support/nest-app';

// One step-up decorator for both providers: B2C proves MFA by its user flow, External ID by
// the authentication context in `acrs`; both by a recent auth_time. External ID refusals
// carry the RFC 9470 challenge, preceded (as a second WWW-Authenticate field) by Microsoft's
// claims challenge only when the token's xms_cc declares the cp1 client capability.

const SIGNIN = 'B2C_1_signupsignin';
const MFA = 'B2C_1_signupsignin_mfa';
const B2C_AUD = 'api://policy-api';
const CIAM_AUD = randomUUID();
const REALM = 'policy-api';

@Controller('beneficiary')
class BeneficiaryController {
  @Put()
  @RequireScopes('Policies.Write')
  @RequireStepUp({ userFlows: [MFA], authContext: 'C1', maxAgeSeconds: 600 })
  change() {
    return { changed: true };
  }

  /** Everything from AuthModule's stepUp options. */
  @Put('configured')
  @RequireStepUp()
  configured() {
    return { changed: true };
  }

  /** Names only the B2C flow: External ID tokens get the module's authContext. */
  @Put('b2c-flow')
  @RequireStepUp({ userFlows: [MFA], maxAgeSeconds: 600 })
  b2cFlow() {
    return { changed: true };
  }
}

let idp: TokenIssuer;
let signinKey: TestKey;
let mfaKey: TestKey;
let ciamKey: TestKey;
let app: NestFastifyApplication;

// base64 (standard alphabet) of {"access_token":{"acrs":{"essential":true,"value":"c1"}}}
const CLAIMS_C1 = 'eyJhY2Nlc3NfdG9rZW4iOnsiYWNycyI6eyJlc3NlbnRpYWwiOnRydWUsInZhbHVlIjoiYzEifX19';

const msChallenge = () =>
  `Bearer realm="${idp.ciamTenantId}", authorization_uri="${idp.ciamAuthorizeUrl()}", error="insufficient_claims", claims="${CLAIMS_C1}"`;
const rfc9470 = (description: string, acr: string, maxAge: number) =>
  `Bearer error="insufficient_user_authentication", error_description="${description}", acr_values="${acr}", max_age=${maxAge}`;

const ciamToken = (extra: Record<string, unknown> = {}) =>
  ciamKey.sign(
    ciamUserClaims({
      iss: idp.ciamIssuer(),
      aud: CIAM_AUD,
      tid: idp.ciamTenantId,
      scp: 'Policies.Write',
      acrs: ['c1'],
      auth_time: nowSeconds() - 60,
      // The portal declares cp1, so its tokens may receive claims challenges.
      xms_cc: ['cp1'],
      ...extra,
    }),
  );
const b2cToken = (key: TestKey, extra: Record<string, unknown> = {}) =>
  key.sign(
    b2cUserClaims({
      iss: idp.b2cIssuer,
      aud: B2C_AUD,
      flow: MFA,
      scp: 'Policies.Write',
      auth_time: nowSeconds() - 60,
      ...extra,
    }),
  );

async function put(url: string, token: string) {
  const res = await app.inject({
    method: 'PUT',
    url,
    headers: { authorization: `Bearer ${token}` },
  });
  return {
    status: res.statusCode,
    www: res.headers['www-authenticate'],
    body: res.json() as Record<string, unknown>,
  };
}

beforeAll(async () => {
  idp = await TokenIssuer.start({ flows: [] });
  [signinKey, mfaKey, ciamKey] = await Promise.all([
    TestKey.generate('signin-1'),
    TestKey.generate('mfa-1', 'ES256'),
    TestKey.generate('ciam-1'),
  ]);
  idp.setKeys(SIGNIN, [signinKey]);
  idp.setKeys(MFA, [mfaKey]);
  idp.setKeys('ciam', [ciamKey]);
  app = await startApp(
    AuthModule.forRoot({
      providers: [
        {
          kind: 'b2c',
          identityMetadata: [idp.b2cMetadataUrl(SIGNIN), idp.b2cMetadataUrl(MFA)],
          audience: B2C_AUD,
        },
        {
          kind: 'external-id',
          tenantId: idp.ciamTenantId,
          identityMetadata: idp.ciamMetadataUrl(),
          audience: CIAM_AUD,
        },
      ],
      allowInsecureHttp: true,
      realm: REALM,
      stepUp: { userFlows: [MFA], authContext: 'c1', maxAgeSeconds: 300 },
    }),
    [BeneficiaryController],
  );
});

afterAll(async () => {
  await app?.close();
  await idp?.stop();
});

describe('step-up on External ID tokens (authentication context)', () => {
  it('accepts acrs containing the context (compared case-insensitively) with a fresh auth_time', async () => {
    expect(await put('/beneficiary', await ciamToken({ acrs: ['c2', 'C1'] }))).toMatchObject({
      status: 200,
      body: { changed: true },
    });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['without acrs', { acrs: undefined }, 'A different authentication level is required'],
    ['with another context', { acrs: ['c2'] }, 'A different authentication level is required'],
    [
      'with a stale auth_time',
      { auth_time: nowSeconds() - 601 },
      'More recent authentication is required',
    ],
    ['without auth_time', { auth_time: undefined }, 'More recent authentication is required'],
  ])(
    'refuses a token %s: 401 with the claims challenge and the RFC 9470 challenge',
    async (_label, claims, description) => {
      const res = await put('/beneficiary', await ciamToken(claims));
      expect(res.status).toBe(401);
      expect(res.www).toEqual([msChallenge(), rfc9470(description, 'c1', 600)]);
      expect(res.body).toEqual({
        error: 'insufficient_user_authentication',
        error_description: description,
      });
    },
  );

  it.each<[string, unknown]>([
    ['without xms_cc', undefined],
    ['with an empty xms_cc', []],
    ['with other capabilities only', ['cp2', 'xcp1']],
    ['with xms_cc not a list of strings', { values: ['cp1'] }],
  ])(
    'refuses a token %s with the RFC 9470 challenge alone (no claims challenge)',
    async (_label, xmsCc) => {
      const res = await put('/beneficiary', await ciamToken({ acrs: ['c2'], xms_cc: xmsCc }));
      expect(res.status).toBe(401);
      expect(res.www).toBe(rfc9470('A different authentication level is required', 'c1', 600));
      expect(res.body).toEqual({
        error: 'insufficient_user_authentication',
        error_description: 'A different authentication level is required',
      });
    },
  );

  it('sends the claims challenge to a token whose xms_cc names cp1 in any case, or as a string', async () => {
    for (const xmsCc of [['CP1'], 'cp1', ['cp2', 'cp1']]) {
      const res = await put('/beneficiary', await ciamToken({ acrs: undefined, xms_cc: xmsCc }));
      expect(res.www).toEqual([
        msChallenge(),
        rfc9470('A different authentication level is required', 'c1', 600),
      ]);
    }
  });

  it('the claims value is base64 of the minified claims request for the context', () => {
    expect(JSON.parse(Buffer.from(CLAIMS_C1, 'base64').toString('utf8'))).toEqual({
      access_token: { acrs: { essential: true, value: 'c1' } },
    });
  });

  it('uses the module stepUp options when the decorator has none', async () => {
    expect(
      (await put('/beneficiary/configured', await ciamToken({ auth_time: nowSeconds() - 200 })))
        .status,
    ).toBe(200);
    const res = await put(
      '/beneficiary/configured',
      await ciamToken({ auth_time: nowSeconds() - 400 }),
    );
    expect(res.status).toBe(401);
    expect(res.www).toEqual([
      msChallenge(),
      rfc9470('More recent authentication is required', 'c1', 300),
    ]);
  });

  it('a route naming only the B2C flow holds External ID tokens to the module authContext', async () => {
    expect((await put('/beneficiary/b2c-flow', await ciamToken())).status).toBe(200);
    const res = await put('/beneficiary/b2c-flow', await ciamToken({ acrs: undefined }));
    expect(res.status).toBe(401);
    expect(res.www).toEqual([
      msChallenge(),
      rfc9470('A different authentication level is required', 'c1', 600),
    ]);
  });

  it('sends the two challenges as two WWW-Authenticate fields on the wire', async () => {
    await app.listen(0, '127.0.0.1');
    const url = `${await app.getUrl()}/beneficiary`.replace('[::1]', '127.0.0.1');
    const res = await fetch(url, {
      method: 'PUT',
      headers: { authorization: `Bearer ${await ciamToken({ acrs: undefined })}` },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('cache-control')).toBe('no-store');
    // fetch joins repeated fields with ", "; the raw header list keeps them apart.
    expect(res.headers.get('www-authenticate')).toBe(
      `${msChallenge()}, ${rfc9470('A different authentication level is required', 'c1', 600)}`,
    );
  });
});

describe('step-up on B2C tokens beside External ID (unchanged)', () => {
  it('accepts a fresh MFA-flow token', async () => {
    expect((await put('/beneficiary', await b2cToken(mfaKey))).status).toBe(200);
  });

  it('refuses the sign-in flow with the RFC 9470 challenge only', async () => {
    const res = await put('/beneficiary', await b2cToken(signinKey, { flow: SIGNIN }));
    expect(res.status).toBe(401);
    expect(res.www).toBe(
      rfc9470('A different authentication level is required', 'b2c_1_signupsignin_mfa', 600),
    );
  });

  it('refuses a stale MFA-flow token', async () => {
    const res = await put(
      '/beneficiary',
      await b2cToken(mfaKey, { auth_time: nowSeconds() - 601 }),
    );
    expect(res.status).toBe(401);
    expect(res.www).toBe(
      rfc9470('More recent authentication is required', 'b2c_1_signupsignin_mfa', 600),
    );
  });

  it('a B2C token carrying an acrs claim still has to come from the MFA flow', async () => {
    const res = await put(
      '/beneficiary',
      await b2cToken(signinKey, { flow: SIGNIN, acrs: ['c1'] }),
    );
    expect(res.status).toBe(401);
  });
});
