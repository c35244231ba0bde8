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
import { Controller, Get, Module, Put } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  AuthModule,
  Authenticated,
  CurrentPrincipal,
  Public,
  RequireRoles,
  RequireScopeOrRole,
  RequireScopes,
  RequireStepUp,
  type AppPrincipal,
  type Principal,
} from '../../src';
import { startApp } from '../support/nest-app';

const SIGNIN = 'B2C_1_signupsignin';
const MFA = 'B2C_1_signupsignin_mfa';
const CLIENT_ID = randomUUID();
const API_AUD = 'api://policy-api';
const REALM = 'policy-api';

const view = (p: Principal) => {
  const { claims: _claims, ...rest } = p;
  return rest;
};

@Controller('accounts')
class AccountsController {
  @Get()
  @RequireScopes('Accounts.Read')
  list(@CurrentPrincipal() principal: Principal) {
    return view(principal);
  }

  @Put()
  @RequireScopes('Accounts.Write')
  update() {
    return { updated: true };
  }
}

@Controller('policies')
class PoliciesController {
  @Get('all')
  @RequireRoles('Policies.Read.All')
  all(@CurrentPrincipal('app') app: AppPrincipal) {
    return { appId: app.appId };
  }

  @Get('either')
  @RequireScopeOrRole({ scopes: ['Policies.Read'], roles: ['Policies.Read.All'] })
  either(@CurrentPrincipal() principal: Principal) {
    return { kind: principal.kind };
  }
}

@Controller('beneficiary')
class BeneficiaryController {
  @Put()
  @RequireScopes('Policies.Write')
  @RequireStepUp({ userFlows: [MFA], maxAgeSeconds: 600 })
  change() {
    return { changed: true };
  }

  /** Flows and max age come from AuthModule's stepUp options. */
  @Put('configured')
  @RequireStepUp()
  changeConfigured() {
    return { changed: true };
  }
}

@Controller('me')
class MeController {
  @Get()
  @Authenticated()
  me(@CurrentPrincipal() principal: Principal) {
    return view(principal);
  }

  @Get('user-only')
  @Authenticated()
  userOnly(@CurrentPrincipal('user') principal: Principal) {
    return { kind: principal.kind };
  }
}

@Controller('open')
class OpenController {
  @Get()
  open() {
    return { open: true };
  }
}

let idp: TokenIssuer;
let signinKey: TestKey;
let mfaKey: TestKey;
let entraKey: TestKey;
let app: NestFastifyApplication;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const userClaims = (extra: Record<string, unknown> = {}) =>
  b2cUserClaims({ iss: idp.b2cIssuer, aud: API_AUD, ...extra });
const appToken = (extra: Record<string, unknown> = {}) =>
  entraKey.sign(appClaims({ iss: idp.entraIssuer, aud: API_AUD, tid: idp.tenantId, ...extra }));

async function call(method: 'GET' | 'PUT', url: string, headers: Record<string, string> = {}) {
  const res = await app.inject({ method, url, headers });
  return {
    status: res.statusCode,
    www: res.headers['www-authenticate'],
    body: res.json() as Record<string, unknown>,
  };
}

async function expectInvalidToken(token: string, description = 'The access token is invalid') {
  const res = await call('GET', '/accounts', bearer(token));
  expect(res.status).toBe(401);
  expect(res.www).toBe(`Bearer error="invalid_token", error_description="${description}"`);
  expect(res.body).toEqual({ error: 'invalid_token', error_description: description });
}

beforeAll(async () => {
  idp = await TokenIssuer.start({ flows: [] });
  [signinKey, mfaKey, entraKey] = await Promise.all([
    TestKey.generate('signin-1'),
    TestKey.generate('mfa-1', 'ES256'),
    TestKey.generate('entra-1'),
  ]);
  idp.setKeys(SIGNIN, [signinKey]);
  idp.setKeys(MFA, [mfaKey]);
  idp.setKeys('entra', [entraKey]);
  app = await startApp(
    AuthModule.forRoot({
      identityMetadata: [
        idp.b2cMetadataUrl(SIGNIN),
        idp.b2cMetadataUrl(MFA),
        idp.entraMetadataUrl(),
      ],
      clientID: CLIENT_ID,
      audience: API_AUD,
      isB2C: true,
      policyName: [SIGNIN, MFA],
      allowInsecureHttp: true,
      realm: REALM,
      stepUp: { userFlows: [MFA], maxAgeSeconds: 300 },
    }),
    [AccountsController, PoliciesController, BeneficiaryController, MeController, OpenController],
  );
});

afterAll(async () => {
  await app?.close();
  await idp?.stop();
});

describe('AuthModule: authentication', () => {
  it('accepts a valid delegated token and hands the principal to the controller', async () => {
    const claims = userClaims({ scp: 'Accounts.Read' });
    const res = await call('GET', '/accounts', bearer(await signinKey.sign(claims)));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      kind: 'user',
      oid: claims.oid,
      sub: claims.sub,
      emails: ['marge@example.test'],
      userFlow: 'b2c_1_signupsignin',
      scopes: ['Accounts.Read'],
    });
  });

  it('missing token: 401 with a bare realm challenge (no error code)', async () => {
    const res = await call('GET', '/accounts');
    expect(res.status).toBe(401);
    expect(res.www).toBe(`Bearer realm="${REALM}"`);
    expect(res.body).toEqual({
      error: 'unauthorized',
      error_description: 'A bearer access token is required',
    });
  });

  it('another auth scheme counts as no bearer token', async () => {
    const res = await call('GET', '/accounts', { authorization: 'Basic dXNlcjpwYXNz' });
    expect(res.status).toBe(401);
    expect(res.www).toBe(`Bearer realm="${REALM}"`);
  });

  it.each([
    ['Bearer'],
    ['Bearer    '],
    ['Bearer a b'],
    ['Bearer a,b'],
    ['Bearer "abc"'],
    ['Bearer abc==x'],
    ['Bearer %%%'],
  ])('malformed Authorization header %j: 400 invalid_request', async (authorization) => {
    const res = await call('GET', '/accounts', { authorization });
    expect(res.status).toBe(400);
    expect(res.www).toBe(
      'Bearer error="invalid_request", error_description="The Authorization header is malformed"',
    );
    expect(res.body).toEqual({
      error: 'invalid_request',
      error_description: 'The Authorization header is malformed',
    });
  });

  it.each([
    ['Bearer not-a-jwt'],
    ['Bearer a.b.c'],
    ['bearer eyJhbGciOiJSUzI1NiJ9.e30.'],
    [`Bearer ${'a'.repeat(9000)}`],
  ])(
    'syntactically valid but bogus token %#: 401 invalid_token, never 500',
    async (authorization) => {
      const res = await call('GET', '/accounts', { authorization });
      expect(res.status).toBe(401);
      expect(res.www).toBe(
        'Bearer error="invalid_token", error_description="The access token is invalid"',
      );
    },
  );

  it('accepts the scheme case-insensitively', async () => {
    const res = await call('GET', '/me', {
      authorization: `bEaReR ${await signinKey.sign(userClaims())}`,
    });
    expect(res.status).toBe(200);
  });

  it('expired', async () => {
    const now = nowSeconds();
    await expectInvalidToken(
      await signinKey.sign(userClaims({ ...times(now - 7200), exp: now - 300 })),
      'The access token expired',
    );
  });

  it('not yet valid', async () => {
    await expectInvalidToken(
      await signinKey.sign(userClaims({ nbf: nowSeconds() + 900 })),
      'The access token is not yet valid (nbf is in the future)',
    );
  });

  it.each<[string, () => Record<string, unknown>, string]>([
    [
      'iat far in the future',
      () => ({ iat: nowSeconds() + 86_400 }),
      'The access token was issued in the future (iat)',
    ],
    ['exp 1e20', () => ({ exp: 1e20 }), 'The access token exp claim is not a valid NumericDate'],
    [
      'a lifetime of 30 days',
      () => times(nowSeconds(), 30 * 86_400),
      'The access token lifetime (exp - nbf) exceeds the maximum accepted',
    ],
    [
      'nbf as a string',
      () => ({ nbf: String(nowSeconds()) }),
      'The access token nbf claim is not a valid NumericDate',
    ],
  ])(
    'a trusted-issuer token with %s: 401 invalid_token naming the claim',
    async (_l, claims, d) => {
      await expectInvalidToken(await signinKey.sign(userClaims(claims())), d);
    },
  );

  it('wrong issuer', async () => {
    await expectInvalidToken(
      await signinKey.sign(userClaims({ iss: 'https://evil.example/tenant/v2.0/' })),
    );
  });

  it('wrong audience', async () => {
    await expectInvalidToken(await signinKey.sign(userClaims({ aud: 'api://another-api' })));
  });

  it('alg none', async () => {
    await expectInvalidToken(unsignedToken(userClaims(), signinKey.kid));
  });

  it('HS256 signed with the public key bytes as the secret', async () => {
    await expectInvalidToken(
      await hs256Token(userClaims(), signinKey.publicKeyBytes(), signinKey.kid),
    );
  });

  it('unknown kid', async () => {
    await expectInvalidToken(await signinKey.sign(userClaims(), { kid: 'rotated-away' }));
  });

  it('tampered payload', async () => {
    const token = await signinKey.sign(userClaims({ scp: 'Accounts.Read' }));
    await expectInvalidToken(tamperPayload(token, { scp: 'Accounts.Read Accounts.Write' }));
  });

  it('a token from a user flow that is not configured', async () => {
    await expectInvalidToken(await signinKey.sign(userClaims({ flow: 'B2C_1_passwordreset' })));
  });
});

describe('AuthModule: authorization', () => {
  it('missing scope: 403 insufficient_scope naming the scope', async () => {
    const res = await call(
      'PUT',
      '/accounts',
      bearer(await signinKey.sign(userClaims({ scp: 'Accounts.Read' }))),
    );
    expect(res.status).toBe(403);
    expect(res.www).toBe(
      'Bearer error="insufficient_scope", error_description="The access token lacks a required scope", scope="Accounts.Write"',
    );
    expect(res.body).toEqual({
      error: 'insufficient_scope',
      error_description: 'The access token lacks a required scope',
    });
  });

  it('an app-only token never satisfies a scope requirement', async () => {
    const res = await call(
      'GET',
      '/accounts',
      bearer(await appToken({ roles: ['Accounts.Read'] })),
    );
    expect(res.status).toBe(403);
  });

  it('app-only token with the role is accepted as an app principal', async () => {
    const token = await appToken({ roles: ['Policies.Read.All'] });
    const res = await call('GET', '/policies/all', bearer(token));
    expect(res.status).toBe(200);
    expect(res.body.appId).toEqual(expect.any(String));
  });

  it('missing role: 403', async () => {
    const res = await call(
      'GET',
      '/policies/all',
      bearer(await appToken({ roles: ['Accounts.Read.All'] })),
    );
    expect(res.status).toBe(403);
    expect(res.www).toBe(
      'Bearer error="insufficient_scope", error_description="The access token lacks a required app role"',
    );
  });

  it('a delegated token never satisfies a role requirement, even carrying a roles claim', async () => {
    const token = await signinKey.sign(
      userClaims({ scp: 'Policies.Read', roles: ['Policies.Read.All'] }),
    );
    const res = await call('GET', '/policies/all', bearer(token));
    expect(res.status).toBe(403);
  });

  it('role OR scope: a user with the scope, or an app with the role', async () => {
    const user = await call(
      'GET',
      '/policies/either',
      bearer(await signinKey.sign(userClaims({ scp: 'Policies.Read' }))),
    );
    expect(user).toMatchObject({ status: 200, body: { kind: 'user' } });
    const daemon = await call(
      'GET',
      '/policies/either',
      bearer(await appToken({ roles: ['Policies.Read.All'] })),
    );
    expect(daemon).toMatchObject({ status: 200, body: { kind: 'app' } });

    const noScope = await call(
      'GET',
      '/policies/either',
      bearer(await signinKey.sign(userClaims({ scp: 'Accounts.Read' }))),
    );
    expect(noScope.status).toBe(403);
    expect(noScope.www).toContain('scope="Policies.Read"');
    const noRole = await call(
      'GET',
      '/policies/either',
      bearer(await appToken({ roles: ['Other.Role'] })),
    );
    expect(noRole.status).toBe(403);
  });

  it('@CurrentPrincipal("user") refuses an app', async () => {
    const res = await call('GET', '/me/user-only', bearer(await appToken()));
    expect(res.status).toBe(403);
  });
});

describe('AuthModule: step-up (RFC 9470)', () => {
  const STEP_UP_HEADER = (description: string, maxAge: number) =>
    `Bearer error="insufficient_user_authentication", error_description="${description}", acr_values="b2c_1_signupsignin_mfa", max_age=${maxAge}`;

  it('accepts a fresh token from the MFA flow (flow name compared case-insensitively)', async () => {
    const token = await mfaKey.sign(
      userClaims({
        flow: 'B2C_1_SignUpSignIn_MFA',
        scp: 'Policies.Write',
        auth_time: nowSeconds() - 60,
      }),
    );
    const res = await call('PUT', '/beneficiary', bearer(token));
    expect(res).toMatchObject({ status: 200, body: { changed: true } });
  });

  it('stale auth_time: 401 with acr_values and max_age', async () => {
    const token = await mfaKey.sign(
      userClaims({ flow: MFA, scp: 'Policies.Write', auth_time: nowSeconds() - 601 }),
    );
    const res = await call('PUT', '/beneficiary', bearer(token));
    expect(res.status).toBe(401);
    expect(res.www).toBe(STEP_UP_HEADER('More recent authentication is required', 600));
    expect(res.body).toEqual({
      error: 'insufficient_user_authentication',
      error_description: 'More recent authentication is required',
    });
  });

  it('wrong user flow: 401 asking for the MFA flow', async () => {
    const token = await signinKey.sign(userClaims({ flow: SIGNIN, scp: 'Policies.Write' }));
    const res = await call('PUT', '/beneficiary', bearer(token));
    expect(res.status).toBe(401);
    expect(res.www).toBe(STEP_UP_HEADER('A different authentication level is required', 600));
  });

  it('missing auth_time counts as stale', async () => {
    const token = await mfaKey.sign(
      userClaims({ flow: MFA, scp: 'Policies.Write', auth_time: undefined }),
    );
    expect((await call('PUT', '/beneficiary', bearer(token))).status).toBe(401);
  });

  it('uses the module stepUp options when the decorator has none', async () => {
    const fresh = await mfaKey.sign(userClaims({ flow: MFA, auth_time: nowSeconds() - 200 }));
    expect((await call('PUT', '/beneficiary/configured', bearer(fresh))).status).toBe(200);
    const stale = await mfaKey.sign(userClaims({ flow: MFA, auth_time: nowSeconds() - 400 }));
    const res = await call('PUT', '/beneficiary/configured', bearer(stale));
    expect(res.status).toBe(401);
    expect(res.www).toBe(STEP_UP_HEADER('More recent authentication is required', 300));
  });

  it('an app cannot step up: 403', async () => {
    expect((await call('PUT', '/beneficiary/configured', bearer(await appToken()))).status).toBe(
      403,
    );
  });
});

describe('AuthModule: routes without decorators', () => {
  it('are left open unless globalGuards is set', async () => {
    expect((await call('GET', '/open')).status).toBe(200);
  });
});

@Controller('global')
class GlobalController {
  @Get()
  secured(@CurrentPrincipal() p: Principal) {
    return { kind: p.kind };
  }

  @Get('health')
  @Public()
  health() {
    return { ok: true };
  }

  @Get('write')
  @RequireScopes('Accounts.Write')
  write() {
    return { ok: true };
  }
}

@Module({
  providers: [{ provide: 'AUTH_ENV', useValue: { STEP_UP_MAX_AGE: '120' } }],
  exports: ['AUTH_ENV'],
})
class EnvModule {}

describe('AuthModule.forRootAsync with globalGuards', () => {
  let globalApp: NestFastifyApplication;

  beforeAll(async () => {
    globalApp = await startApp(
      AuthModule.forRootAsync({
        imports: [EnvModule],
        inject: ['AUTH_ENV'],
        useFactory: (env: { STEP_UP_MAX_AGE: string }) => ({
          identityMetadata: [idp.b2cMetadataUrl(SIGNIN)],
          audience: API_AUD,
          isB2C: true,
          allowInsecureHttp: true,
          globalGuards: true,
          stepUp: { userFlows: [MFA], maxAgeSeconds: Number(env.STEP_UP_MAX_AGE) },
        }),
      }),
      [GlobalController],
    );
  });

  afterAll(() => globalApp.close());

  it('requires a token on every route except @Public()', async () => {
    const anonymous = await globalApp.inject({ method: 'GET', url: '/global' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="api"');
    expect((await globalApp.inject({ method: 'GET', url: '/global/health' })).statusCode).toBe(200);

    const token = await signinKey.sign(userClaims({ scp: 'Accounts.Read' }));
    const ok = await globalApp.inject({ method: 'GET', url: '/global', headers: bearer(token) });
    expect(ok.json()).toEqual({ kind: 'user' });
    const forbidden = await globalApp.inject({
      method: 'GET',
      url: '/global/write',
      headers: bearer(token),
    });
    expect(forbidden.statusCode).toBe(403);
  });

  it('runs alongside another app in the same process (own passport instance)', async () => {
    // The first app trusts the MFA flow; this one does not.
    const token = await mfaKey.sign(userClaims({ flow: MFA, scp: 'Accounts.Read' }));
    expect((await call('GET', '/accounts', bearer(token))).status).toBe(200);
    expect(
      (await globalApp.inject({ method: 'GET', url: '/global', headers: bearer(token) }))
        .statusCode,
    ).toBe(401);
  });
});

describe('AuthModule when the identity metadata is unreachable', () => {
  it('answers 503 for a well-formed token (keys unknown), 401 for a malformed one', async () => {
    const down = await startApp(
      AuthModule.forRoot({
        identityMetadata: idp.b2cMetadataUrl('B2C_1_not_served'),
        audience: API_AUD,
        allowInsecureHttp: true,
      }),
      [MeController],
    );
    try {
      const token = await signinKey.sign(userClaims());
      const res = await down.inject({ method: 'GET', url: '/me', headers: bearer(token) });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ error: 'temporarily_unavailable' });
      const bad = await down.inject({ method: 'GET', url: '/me', headers: bearer('x.y.z') });
      expect(bad.statusCode).toBe(401);
    } finally {
      await down.close();
    }
  });
});

describe('AuthModule over real HTTP', () => {
  it('sends the challenge headers on the wire', async () => {
    await app.listen(0, '127.0.0.1');
    try {
      const url = `${await app.getUrl()}/accounts`.replace('[::1]', '127.0.0.1');
      const missing = await fetch(url);
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toBe(`Bearer realm="${REALM}"`);
      expect(missing.headers.get('cache-control')).toBe('no-store');

      const token = await signinKey.sign(userClaims({ scp: 'Accounts.Read' }));
      const ok = await fetch(url, { headers: bearer(token) });
      expect(ok.status).toBe(200);
    } finally {
      await app.close();
    }
  });
});
